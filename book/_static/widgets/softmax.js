/*
 * nndl — the softmax slider board of chapter 3 ("Softmax"). Self-contained:
 * no libraries, no network.
 *
 * A page declares a board with
 *   <div class="nndl-widget nndl-softmax" id="..." data-z='[2.5, -1, 3.2, 0.5]'
 *        data-range='[-5, 5, 0.1]'></div>
 * One slider per weighted input z_j; the board shows every output
 *   a_j = exp(z_j) / sum_k exp(z_k)
 * as a bar and a number, and their sum. Like the chapter 4 widgets, it
 * publishes what it shows on its element, for tests and curious readers:
 * data-state (the z_j, JSON), data-values (the a_j, JSON, full precision)
 * and data-renders (how many times it has drawn).
 */
(function () {
  "use strict";

  // Mark the page as scripted at once: the CSS shows the board only then.
  document.documentElement.classList.add("nndl-js");

  /** Softmax of an array, with the largest z subtracted first (no overflow). */
  function softmax(z) {
    const top = Math.max(...z);
    const e = z.map((v) => Math.exp(v - top));
    const total = e.reduce((s, v) => s + v, 0);
    return e.map((v) => v / total);
  }

  const decimalsOf = (step) => {
    const text = String(step);
    return text.includes(".") ? text.split(".")[1].length : 0;
  };

  function el(tag, attrs, parent) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (parent) parent.appendChild(node);
    return node;
  }

  /** z_j or a_j as HTML-free text nodes: a letter and a subscript. */
  function symbol(parent, letter, j) {
    parent.appendChild(document.createTextNode(letter));
    el("sub", {}, parent).textContent = String(j);
  }

  function mount(root) {
    const z0 = JSON.parse(root.dataset.z || "[2.5, -1, 3.2, 0.5]");
    const [min, max, step] = JSON.parse(root.dataset.range || "[-5, 5, 0.1]");
    const digits = decimalsOf(step);
    const id = root.id || "nndl-softmax";
    root.classList.add("nndl-widget-live");

    const grid = el("div", { class: "nndl-softmax-grid" }, root);
    const head = el("div", { class: "nndl-softmax-row nndl-softmax-head" }, grid);
    ["", "weighted input", "", "output"].forEach((text) => {
      el("span", {}, head).textContent = text;
    });

    const rows = z0.map((value, index) => {
      const j = index + 1;
      const row = el("div", { class: "nndl-softmax-row" }, grid);
      const label = el("label", { for: `${id}-z${j}` }, row);
      symbol(label, "z", j);
      const input = el("input", {
        type: "range", id: `${id}-z${j}`, name: `z${j}`,
        min: min, max: max, step: step, value: value,
      }, row);
      const zOut = el("output", { for: input.id, id: `${id}-z${j}-value`, class: "nndl-softmax-z" }, row);
      const track = el("span", { class: "nndl-softmax-track", "aria-hidden": "true" }, row);
      const bar = el("span", { class: "nndl-softmax-bar" }, track);
      const aOut = el("output", { id: `${id}-a${j}`, class: "nndl-softmax-a" }, row);
      input.addEventListener("input", render);
      input.addEventListener("change", render);
      return { input, zOut, bar, aOut, j };
    });

    const sum = el("p", { class: "nndl-softmax-sum", id: `${id}-sum`, "aria-live": "polite" }, root);

    function render() {
      const z = rows.map((r) => Number(r.input.value));
      const a = softmax(z);
      rows.forEach((r, i) => {
        const zText = z[i].toFixed(digits);
        r.zOut.textContent = zText;
        r.input.setAttribute("aria-valuetext", `z${r.j} = ${zText}`);
        r.aOut.textContent = a[i].toFixed(3);
        r.aOut.setAttribute("aria-label", `a${r.j} = ${a[i].toFixed(3)}`);
        r.bar.style.width = `${(100 * a[i]).toFixed(2)}%`;
      });
      const total = a.reduce((s, v) => s + v, 0);
      sum.textContent = "";
      rows.forEach((r, i) => {
        if (i) sum.appendChild(document.createTextNode(" + "));
        symbol(sum, "a", r.j);
      });
      sum.appendChild(document.createTextNode(` = ${total.toFixed(3)}`));
      el("span", { class: "nndl-softmax-note" }, sum).textContent =
        " \u2014 always 1: the outputs form a probability distribution.";
      root.dataset.state = JSON.stringify(z);
      root.dataset.values = JSON.stringify(a);
      root.dataset.renders = String(Number(root.dataset.renders || 0) + 1);
    }

    render();
    return {
      root: root,
      set(values) {
        values.forEach((v, i) => { rows[i].input.value = v; });
        render();
      },
      values: () => JSON.parse(root.dataset.values),
    };
  }

  // window.NNDLSoftmax.boards: every mounted board by id (its set/values API).
  const registry = {};
  window.NNDLSoftmax = { boards: registry, softmax: softmax };

  function mountAll() {
    document.querySelectorAll(".nndl-softmax").forEach((root) => {
      if (!registry[root.id]) registry[root.id] = mount(root);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mountAll);
  } else {
    mountAll();
  }
})();
