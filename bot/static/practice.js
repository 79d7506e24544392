/* Practice pages: the "Imprimir" button (kept out of the HTML so the pages need no inline script). */
"use strict";
for (const button of document.querySelectorAll("[data-print]")) {
  button.addEventListener("click", () => window.print());
}
