// Progressive enhancement only: every page works without this file.
// 1. A "Copy" button beside each [data-copy] value (checksums, commands).
// 2. Gene-name suggestions in search boxes marked data-gene-suggestions.
"use strict";

function addCopyButtons() {
  if (!navigator.clipboard) return;  // plain HTTP other than localhost has no clipboard API
  document.querySelectorAll("[data-copy]").forEach((holder) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy " + (holder.dataset.copyLabel || "value"));
    button.addEventListener("click", () => {
      navigator.clipboard.writeText(holder.dataset.copy).then(
        () => { button.textContent = "Copied"; },
        () => { button.textContent = "Copy failed"; });
      setTimeout(() => { button.textContent = "Copy"; }, 2000);
    });
    holder.after(button);
  });
}

function suggestGenes(input) {
  const list = document.getElementById(input.getAttribute("list"));
  if (!list) return;
  let timer = null;
  let asked = "";
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const text = input.value.trim();
    // Variants and Ensembl ids need no suggestions; symbols are short.
    if (!/^[A-Za-z0-9][A-Za-z0-9._@/-]{0,63}$/.test(text) || /^ENS/i.test(text)) {
      list.replaceChildren();
      return;
    }
    timer = setTimeout(() => {
      asked = text;
      fetch(input.dataset.geneSuggestions + "?q=" + encodeURIComponent(text))
        .then((response) => (response.ok ? response.json() : { genes: [] }))
        .then((body) => {
          if (asked !== text) return;  // a later keystroke asked again
          list.replaceChildren(...body.genes.map((gene) => {
            const option = document.createElement("option");
            option.value = gene.gene_name || gene.gene_id;
            option.label = gene.gene_id;
            return option;
          }));
        })
        .catch(() => list.replaceChildren());
    }, 150);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  addCopyButtons();
  document.querySelectorAll("input[data-gene-suggestions]").forEach(suggestGenes);
});
