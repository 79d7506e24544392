/* Practice pages: the "Imprimir" button, and the practice list's search as you type (no inline script). */
"use strict";
for (const button of document.querySelectorAll("[data-print]")) {
  button.addEventListener("click", () => window.print());
}

(function () {
  const form = document.getElementById("practice-search");
  if (!form) return;
  const input = document.getElementById("practice-q");
  const region = document.getElementById("practice-region");
  const items = Array.from(document.querySelectorAll("#practices li"));
  const count = document.getElementById("practice-count");
  const none = document.getElementById("practice-none");
  const texts = JSON.parse(document.getElementById("texts").textContent || "{}");
  const fold = (s) => String(s || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();

  function apply() {
    const words = fold(input.value).split(/\s+/).filter(Boolean);
    let shown = 0;
    for (const li of items) {
      const text = li.dataset.search || "";
      const ok = (!region.value || li.dataset.region === region.value) && words.every((w) => text.includes(w));
      li.hidden = !ok;
      if (ok) shown += 1;
    }
    count.textContent = shown === 1 ? texts.practice_one : String(texts.practice_many).replace("{n}", shown);
    none.hidden = shown !== 0;
  }
  form.addEventListener("submit", (event) => event.preventDefault());
  input.addEventListener("input", apply);
  region.addEventListener("change", apply);
  const q = new URLSearchParams(location.search).get("q");
  if (q) {
    input.value = q;
    apply();
  }
})();
