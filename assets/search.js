// Search over Pagefind's static index (built with the site, under pagefind/, in shards on a big site).
// The page works as a plain form too: ?q=...&kind=... is read on load.
// The kind of a page is Pagefind metadata, not a Pagefind filter: Pagefind 1.5 writes
// filter indexes in a different order on every run, and the site must be byte-identical
// for the same input. So results are narrowed to a kind here, as they load.
const form = document.querySelector(".search-form");
const input = form.querySelector("input[name=q]");
const status = document.getElementById("search-status");
const list = document.getElementById("search-results");
const SHOWN = 20;
let pagefind = null;
let latest = 0;

async function engine() {
  if (!pagefind) {
    const options = { baseUrl: form.dataset.base, excerptLength: 24 };
    const loaded = await import(form.dataset.bundle + "pagefind.js");
    await loaded.options(options);
    loaded.init();
    // A big site's index comes in shards: this bundle, and the others listed beside it.
    const shards = await fetch(form.dataset.bundle + "shards.json").then((r) => r.json());
    await Promise.all(shards.merge.map((folder) => loaded.mergeIndex(form.dataset.bundle + folder, options)));
    pagefind = loaded;
  }
  return pagefind;
}

function chosenKind() {
  const checked = form.querySelector("input[name=kind]:checked");
  return checked ? checked.value : "";
}

function item(data) {
  const li = document.createElement("li");
  const kind = (data.meta && data.meta.kind) || "";
  const heading = document.createElement("h2");
  const link = document.createElement("a");
  link.href = data.url;
  link.textContent = (data.meta && data.meta.title) || data.url;
  heading.append(link);
  if (kind) {
    const label = document.createElement("span");
    label.className = "kind";
    label.textContent = kind;
    li.append(label);
  }
  const excerpt = document.createElement("p");
  excerpt.innerHTML = data.excerpt; // Pagefind escapes the page text and adds only <mark>
  li.prepend(heading);
  li.append(excerpt);
  return li;
}

async function run(push) {
  const query = input.value.trim();
  const kind = chosenKind();
  const ticket = ++latest;
  if (push) {
    const params = new URLSearchParams();
    if (query) params.set("q", query);
    if (kind) params.set("kind", kind);
    history.replaceState(null, "", params.toString() ? "?" + params : location.pathname);
  }
  if (!query) {
    list.replaceChildren();
    status.textContent = "";
    return;
  }
  status.textContent = "Searching…";
  try {
    const pf = await engine();
    const found = await pf.search(query);
    const results = [];
    let seen = 0;
    while (results.length < SHOWN && seen < found.results.length) {
      const batch = await Promise.all(found.results.slice(seen, seen + SHOWN).map((r) => r.data()));
      seen += batch.length;
      results.push(...batch.filter((data) => !kind || (data.meta && data.meta.kind) === kind));
    }
    if (ticket !== latest) return;
    const more = results.length > SHOWN || seen < found.results.length;
    results.length = Math.min(results.length, SHOWN);
    list.replaceChildren(...results.map(item));
    const count = results.length;
    status.textContent = count === 0 ? `No results for “${query}”.`
      : `${count}${more ? "+" : ""} result${count === 1 && !more ? "" : "s"} for “${query}”${more ? `, the first ${SHOWN} shown` : ""}.`;
  } catch (error) {
    status.textContent = "Search could not load. Browse the explainers, actors and timeline instead.";
  }
}

let timer = 0;
form.addEventListener("submit", (event) => { event.preventDefault(); run(true); });
input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => run(true), 250); });
form.addEventListener("change", (event) => { if (event.target.name === "kind") run(true); });

const params = new URLSearchParams(location.search);
input.value = params.get("q") || "";
const wanted = form.querySelector(`input[name=kind][value="${CSS.escape(params.get("kind") || "")}"]`);
if (wanted) wanted.checked = true;
if (input.value) run(false);
