"""What the preview adds to every HTML page it serves: livereload's client, the page's
build number with a freshness check, a stylesheet swapper, and, after a failed build,
an overlay with every error over the last good page.

Pure functions of their arguments but for `source_line`, which reads the offending line
from the site's (or the built-in theme's) file.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from .problems import Mark, Problem

BUILD_PATH = "/_dossier/build"  # answers {"build": N}, the number of the latest finished build

# livereload's own loader (as in livereload.Server.application): fetch livereload.js from
# the origin the page came from, so the websocket goes back to that same origin.
LOADER = (
    '<script data-dossier="livereload">(function(){var s=document.createElement("script");'
    'var port=window.location.port||(window.location.protocol=="https:"?443:80);'
    's.src="//"+window.location.hostname+":"+port+"/livereload.js?port="+port;'
    'document.head.appendChild(s);})();</script>'
)

# The page's build number, which the client below compares and the stylesheet swap updates.
BUILD_META = '<meta name="dossier-build" content="%d">'

# Two additions to livereload's client, both through its own extension points:
# - freshness: a build that finished while this page loaded, before its websocket was
#   registered, sent its reload to nobody. Once connected (the server registers a socket
#   before it answers the handshake), ask which build is current; reload if it is not ours.
# - stylesheets, a livereload.js plugin (it adopts every window.LiveReloadPlugin*): its own
#   live CSS re-fetches a stylesheet under the URL it had, which cannot follow a fingerprinted
#   name (style.3f2a1c9e.css). The server sends the new URL; the plugin swaps the link whose
#   URL is the same but for the fingerprint, without reloading the page.
# - pages, in the same plugin: a change to the page is fetched and swapped in (head and
#   body), keeping the editor's scroll position; a page that runs scripts of its own (the
#   search page), or whose stylesheets changed, is reloaded instead. Faster than a reload.
CLIENT = """<script data-dossier="client">(function(){
var meta=function(){return document.querySelector('meta[name="dossier-build"]')||{};};
var current=function(then){fetch("%s",{cache:"no-store"}).then(function(r){return r.json();})
.then(function(s){then(String(s.build));}).catch(function(){});};
document.addEventListener("LiveReloadConnect",function(){
current(function(build){if(build!==meta().content){window.location.reload();}});});
var plain=function(url){return new URL(url,window.location.href).pathname.replace(/\\.[0-9a-f]{8}(\\.css)$/,"$1");};
function Stylesheets(){}
Stylesheets.identifier="dossier-stylesheets";Stylesheets.version="1.0";
var own='script:not([data-dossier]):not([type="application/ld+json"]):not([src*="livereload.js"])';
var kept='link[rel~="stylesheet"],[data-dossier],script[src*="livereload.js"]';
var sheets=function(doc){return Array.prototype.map.call(doc.querySelectorAll('link[rel~="stylesheet"]'),
function(link){return link.getAttribute("href");}).join(" ");};
var asked=0;
var swap=function(){var n=++asked;fetch(window.location.href,{cache:"no-store"}).then(function(r){return r.text();})
.then(function(text){if(n!==asked){return;}var doc=new DOMParser().parseFromString(text,"text/html");
if(document.querySelector(own)||doc.querySelector(own)||sheets(doc)!==sheets(document)){window.location.reload();return;}
var x=window.scrollX,y=window.scrollY,head=document.head;
Array.prototype.slice.call(head.children).forEach(function(el){if(!el.matches(kept)){el.remove();}});
Array.prototype.slice.call(doc.head.children).forEach(function(el){if(!el.matches(kept)){head.appendChild(el);}});
var html=document.documentElement,next=doc.documentElement;
Array.prototype.slice.call(html.attributes).forEach(function(a){if(!next.hasAttribute(a.name)){html.removeAttribute(a.name);}});
Array.prototype.slice.call(next.attributes).forEach(function(a){html.setAttribute(a.name,a.value);});
document.body.replaceWith(doc.body);window.scrollTo(x,y);
document.dispatchEvent(new CustomEvent("dossier:swapped"));})
.catch(function(){window.location.reload();});};
Stylesheets.prototype.reload=function(path){
if(/\\.(jpe?g|png|gif)$/i.test(path)){return false;}
if(!/\\.css$/i.test(path)){swap();return true;}
var links=document.querySelectorAll('link[rel~="stylesheet"]'),found=false;
links.forEach(function(link){if(plain(link.href)!==plain(path)){return;}
found=true;var href=path;
if(new URL(link.href).pathname===new URL(path,window.location.href).pathname){href+="?dossier="+Date.now();}
var fresh=link.cloneNode(false);fresh.setAttribute("href",href);
fresh.onload=fresh.onerror=function(){link.remove();};link.after(fresh);});
if(!found){window.location.reload();}else{current(function(build){meta().content=build;});}
return true;};
window.LiveReloadPluginDossierStylesheets=Stylesheets;
})();</script>""" % BUILD_PATH

OVERLAY_STYLE = """<style>
#dossier-errors{position:fixed;inset:0;z-index:2147483647;overflow:auto;box-sizing:border-box;
margin:0;padding:2rem;background:rgba(255,255,255,.97);color:#1a1a1a;font:16px/1.5 system-ui,sans-serif;text-align:left}
#dossier-errors h2{margin:0 0 .25rem;font-size:1.4rem;color:#a4000f}
#dossier-errors ol{padding-left:1.5rem}
#dossier-errors li{margin:1rem 0}
#dossier-errors code,#dossier-errors pre{font:14px/1.45 ui-monospace,monospace}
#dossier-errors pre{margin:.4rem 0 0;padding:.5rem .75rem;overflow:auto;background:#fff3f3;border-left:3px solid #a4000f;color:#1a1a1a}
#dossier-errors button{font:inherit;float:right}
</style>"""

MISSING_PAGE = (b"<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Not found</title>\n"
                b"</head>\n<body>\n<h1>Not found</h1>\n<p>There is no page at this address (yet).</p>\n</body>\n</html>\n")

_HEAD_END = re.compile(rb"</head\s*>", re.IGNORECASE)
_BODY_END = re.compile(rb"</body\s*>", re.IGNORECASE)


def decorate(page: bytes, build: int, overlay: str) -> bytes:
    """The page with the client scripts before </head> and the overlay, if any, before </body>."""
    scripts = (BUILD_META % build + CLIENT + LOADER).encode()
    head = _HEAD_END.search(page)
    if head:
        page = page[:head.start()] + scripts + page[head.start():]
    else:
        overlay = scripts.decode() + overlay
    if not overlay:
        return page
    ends = list(_BODY_END.finditer(page))
    cut = ends[-1].start() if ends else len(page)
    return page[:cut] + overlay.encode() + page[cut:]


def overlay_html(problems: list[Problem], failure: str, roots: list[Path]) -> str:
    """The error overlay: every error with path:line:col, its message and its source line."""
    errors = [p for p in problems if p.severity == "error"]
    if failure:
        title = "The build failed"
        items = [f"<li><pre>{html.escape(failure)}</pre></li>"]
    else:
        title = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
        items = [_item(problem, roots) for problem in errors]
    return (
        f'<div id="dossier-errors" role="alert">{OVERLAY_STYLE}'
        '<button type="button" onclick="this.parentNode.remove()">Hide</button>'
        f"<h2>{title}</h2>"
        "<p>This is the last good build underneath. Fix the files and save: the page reloads by itself.</p>"
        f"<ol>{''.join(items)}</ol></div>"
    )


def _item(problem: Problem, roots: list[Path]) -> str:
    text = f"<li><code>{html.escape(str(problem.mark))}</code>: {html.escape(problem.message)}"
    line = source_line(problem.mark, roots)
    if line is not None:
        number = f"{problem.mark.line} | "
        caret = " " * (len(number) - 2) + "| " + " " * min(max(problem.mark.col - 1, 0), len(line)) + "^"
        text += f"<pre>{html.escape(number + line)}\n{html.escape(caret)}</pre>"
    return text + "</li>"


def source_line(mark: Mark, roots: list[Path], limit: int = 300) -> str | None:
    """Line `mark.line` of the file at `mark.path` in the first root that has it (inside that root only)."""
    for root in roots:
        base = root.resolve()
        path = (base / mark.path).resolve()
        if not path.is_relative_to(base) or not path.is_file():
            continue
        try:
            with path.open(encoding="utf-8", errors="replace") as file:
                for number, line in enumerate(file, 1):
                    if number == mark.line:
                        return line.rstrip("\r\n").replace("\t", " ")[:limit]  # one column a character, as in the mark
        except OSError:
            return None
        return None
    return None
