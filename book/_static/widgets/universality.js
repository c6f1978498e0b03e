/*
 * nndl — interactive figures for chapter 4 ("A visual proof that neural nets
 * can compute any function"). Self-contained: no libraries, no network.
 *
 * Part 1 (NNDLUniversality) is a line-by-line port of the pure functions of
 * nndl_core/universality.py: the same networks, built the same way and run
 * by the same `evaluate`. tests/browser/ checks it against vectors written by
 * the Python library (_build_tools/universality_vectors.py).
 *
 * Part 2 draws the widgets. A page declares one with
 *   <div class="nndl-widget" id="..." data-widget="KIND" data-params='{...}'>
 * Every widget publishes what it plots on its element, for tests and for
 * curious readers: data-state (the slider values, JSON) and data-values
 * (the sampled curve or surface, JSON).
 */
(function () {
  "use strict";

  // Mark the page as scripted at once, so the CSS can swap the static
  // fallback figures for the live ones before the first paint.
  document.documentElement.classList.add("nndl-js");

  /* ------------------------------------------------------------------ */
  /* Part 1: the mathematics (mirrors nndl_core/universality.py)         */
  /* ------------------------------------------------------------------ */

  const STEP_WEIGHT = 1000.0;
  const TOWER_WEIGHT = 100.0;

  function sigmoid(z) {
    const e = Math.exp(-Math.abs(z)); // never overflows
    return z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
  }

  function logit(y) {
    if (!(y > 0 && y < 1)) {
      throw new RangeError("logit needs values strictly between 0 and 1");
    }
    return Math.log(y) - Math.log1p(-y);
  }

  const relu = (z) => Math.max(z, 0.0);
  const sigmoidLike = (z) =>
    sigmoid(z) + 0.2 * Math.sin(10 * z) * Math.exp(-Math.abs(z));
  const linear = (z) => z;
  const ACTIVATIONS = {
    sigmoid: sigmoid,
    linear: linear,
    relu: relu,
    sigmoid_like: sigmoidLike,
  };

  function goalFunction(x) {
    return 0.2 + 0.4 * x * x + 0.3 * x * Math.sin(15 * x) + 0.05 * Math.cos(50 * x);
  }

  function goalFunction2d(x, y) {
    const r2 = (x - 0.35) ** 2 + (y - 0.6) ** 2;
    return 0.25 + 0.45 * Math.exp(-8 * r2) + 0.2 * x * y;
  }

  const zeros = (n) => new Array(n).fill(0.0);
  const matrix = (rows, cols) => Array.from({ length: rows }, () => zeros(cols));
  const as2d = (v) => (Array.isArray(v[0]) ? v : [v]);

  /** Net: {weights: [[row, ...], ...], biases: [[...], ...], activations}. */
  function makeNet(weights, biases, activations) {
    return { weights: weights, biases: biases, activations: activations };
  }

  /** Output of `net` for one input vector `point` (an array): array of outputs. */
  function forward(net, point) {
    let a = point;
    for (let l = 0; l < net.weights.length; l++) {
      const w = net.weights[l];
      const b = net.biases[l];
      const act = ACTIVATIONS[net.activations[l]];
      const next = new Array(w.length);
      for (let j = 0; j < w.length; j++) {
        let z = 0.0;
        const row = w[j];
        for (let k = 0; k < row.length; k++) {
          if (row[k] !== 0) z += row[k] * a[k]; // skipping zeros changes no sum
        }
        next[j] = act(z + b[j]);
      }
      a = next;
    }
    return a;
  }

  /** evaluate(net, points): numbers (one output) or arrays (several). */
  function evaluate(net, points) {
    return points.map((p) => {
      const out = forward(net, Array.isArray(p) ? p : [p]);
      return out.length === 1 ? out[0] : out;
    });
  }

  function singleNeuron(w, b, activation) {
    const ws = Array.isArray(w) ? w.slice() : [w];
    return makeNet([[ws], [[1.0]]], [[b], [0.0]], [activation || "sigmoid", "linear"]);
  }

  function stepLayer(positions, axes, nIn, stepWeight) {
    const sw = stepWeight === undefined ? STEP_WEIGHT : stepWeight;
    const w = matrix(positions.length, nIn || 1);
    const b = positions.map((s, j) => {
      w[j][axes ? axes[j] : 0] = sw;
      return -sw * s;
    });
    return { w: w, b: b };
  }

  function weightedStepsNet(positions, weights, opts) {
    const o = opts || {};
    const hidden = stepLayer(positions, o.axes, o.nIn || 1, o.stepWeight);
    const wOut = as2d(weights).map((r) => r.slice());
    const c = o.outputBias === undefined ? 0.0 : o.outputBias;
    const bOut = wOut.map((_, i) => (Array.isArray(c) ? c[i] : c));
    return makeNet([hidden.w, wOut], [hidden.b, bOut], ["sigmoid", o.output || "linear"]);
  }

  function stepNet(s, stepWeight) {
    return weightedStepsNet([s], [1.0], { stepWeight: stepWeight });
  }

  function bumpsNet(intervals, heights, opts) {
    const o = opts || {};
    const positions = [].concat(...intervals);
    const signed = as2d(heights).map((row) => [].concat(...row.map((h) => [h, -h])));
    return weightedStepsNet(positions, signed, { stepWeight: o.stepWeight, output: o.output });
  }

  function bumpNet(s1, s2, h, stepWeight) {
    return bumpsNet([[s1, s2]], [h], { stepWeight: stepWeight });
  }

  function towerNet(intervals, towerWeight, stepWeight) {
    const h = towerWeight === undefined ? TOWER_WEIGHT : towerWeight;
    const m = intervals.length;
    const weights = [];
    const axes = [];
    intervals.forEach((_, i) => {
      weights.push(h, -h);
      axes.push(i, i);
    });
    return weightedStepsNet([].concat(...intervals), weights, {
      axes: axes, nIn: m, stepWeight: stepWeight,
      outputBias: (-m + 0.5) * h, output: "sigmoid",
    });
  }

  /** Towers on a grid (two hidden layers); heights[i][j] or [out][i][j]. */
  function gridTowersNet(edges, heights, opts) {
    const o = opts || {};
    const h = o.towerWeight === undefined ? TOWER_WEIGHT : o.towerWeight;
    const [xe, ye] = edges;
    const nx = xe.length - 1;
    const ny = ye.length - 1;
    const axes = xe.map(() => 0).concat(ye.map(() => 1));
    const first = stepLayer(xe.concat(ye), axes, 2, o.stepWeight);
    const w2 = matrix(nx * ny, nx + ny + 2);
    for (let i = 0; i < nx; i++) {
      for (let j = 0; j < ny; j++) {
        const row = w2[i * ny + j];
        row[i] = h;
        row[i + 1] = -h;
        row[nx + 1 + j] = h;
        row[nx + 2 + j] = -h;
      }
    }
    const b2 = zeros(nx * ny).map(() => -1.5 * h);
    const outs = Array.isArray(heights[0][0]) ? heights : [heights];
    const w3 = outs.map((grid) => [].concat(...grid));
    return makeNet([first.w, w2, w3], [first.b, b2, zeros(w3.length)],
      ["sigmoid", "sigmoid", "linear"]);
  }

  function blockDiag(blocks) {
    const rows = blocks.reduce((n, b) => n + b.length, 0);
    const cols = blocks.reduce((n, b) => n + b[0].length, 0);
    const out = matrix(rows, cols);
    let r = 0;
    let c = 0;
    blocks.forEach((b) => {
      b.forEach((row, i) => row.forEach((v, k) => { out[r + i][c + k] = v; }));
      r += b.length;
      c += b[0].length;
    });
    return out;
  }

  /** One net computing output(sum of the nets' linear outputs). */
  function parallelSum(nets, output) {
    const depth = nets[0].weights.length;
    const weights = [[].concat(...nets.map((n) => n.weights[0].map((r) => r.slice())))];
    for (let l = 1; l < depth - 1; l++) weights.push(blockDiag(nets.map((n) => n.weights[l])));
    const nOut = nets[0].weights[depth - 1].length;
    const last = [];
    for (let i = 0; i < nOut; i++) last.push([].concat(...nets.map((n) => n.weights[depth - 1][i])));
    weights.push(last);
    const biases = [];
    for (let l = 0; l < depth - 1; l++) biases.push([].concat(...nets.map((n) => n.biases[l])));
    const outBias = zeros(nOut);
    nets.forEach((n) => n.biases[depth - 1].forEach((v, i) => { outBias[i] += v; }));
    biases.push(outBias);
    const acts = nets[0].activations.slice(0, depth - 1).concat([output || "linear"]);
    return makeNet(weights, biases, acts);
  }

  function shiftedEdges(a, b, nBins, shift) {
    const width = (b - a) / nBins;
    const sh = shift || 0;
    const edges = [a - width / 2];
    for (let k = sh === 0 ? 1 : 0; k < nBins; k++) edges.push(a + (k + sh) * width);
    edges.push(b + width / 2);
    return edges;
  }

  const clip = (v, lo, hi) => Math.min(Math.max(v, lo), hi);

  function targetOf(f, output) {
    if (output === "sigmoid") return (...x) => logit(f(...x));
    if (output === "linear") return f;
    throw new Error("output must be 'sigmoid' or 'linear'");
  }

  /** approximate_1d for a scalar f; opts: interval, stepWeight, nShifts, output. */
  function approximate1d(f, nBumps, opts) {
    const o = Object.assign({ interval: [0, 1], nShifts: 1, output: "sigmoid" }, opts);
    const [a, b] = o.interval;
    const target = targetOf(f, o.output);
    const copies = [];
    for (let m = 0; m < o.nShifts; m++) {
      const edges = shiftedEdges(a, b, nBumps, m / o.nShifts);
      const pairs = [];
      const heights = [];
      for (let k = 0; k + 1 < edges.length; k++) {
        pairs.push([edges[k], edges[k + 1]]);
        heights.push(target(clip((edges[k] + edges[k + 1]) / 2, a, b)) / o.nShifts);
      }
      copies.push(bumpsNet(pairs, heights, { stepWeight: o.stepWeight }));
    }
    return parallelSum(copies, o.output);
  }

  /** approximate_2d for a scalar f(x, y); opts: square, stepWeight, towerWeight, nShifts, output. */
  function approximate2d(f, nTowers, opts) {
    const o = Object.assign({ square: [[0, 1], [0, 1]], nShifts: 1, output: "sigmoid" }, opts);
    const target = targetOf(f, o.output);
    const copies = [];
    for (let m = 0; m < o.nShifts; m++) {
      const edges = o.square.map(([lo, hi]) => shiftedEdges(lo, hi, nTowers, m / o.nShifts));
      const mids = edges.map((e, d) =>
        e.slice(1).map((v, k) => clip((e[k] + v) / 2, o.square[d][0], o.square[d][1])));
      const heights = mids[0].map((x) => mids[1].map((y) => target(x, y) / o.nShifts));
      copies.push(gridTowersNet(edges, heights,
        { towerWeight: o.towerWeight, stepWeight: o.stepWeight }));
    }
    return parallelSum(copies, o.output);
  }

  const DESIGN_EDGES = [0, 0.2, 0.4, 0.6, 0.8, 1.0];
  const DESIGN_PAIRS = DESIGN_EDGES.slice(1).map((t, k) => [DESIGN_EDGES[k], t]);

  function designSamples() {
    const xs = [];
    for (let i = 0; i < 100; i++) xs.push(i / 100);
    return xs;
  }

  function designError(heights, f) {
    const g = f || goalFunction;
    let total = 0.0;
    designSamples().forEach((x, i) => {
      total += Math.abs(logit(g(x)) - heights[Math.floor(i / 20)]);
    });
    return total / 100;
  }

  function median(values) {
    const v = values.slice().sort((p, q) => p - q);
    const n = v.length;
    return n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  function designSolution(f) {
    const g = f || goalFunction;
    const t = designSamples().map((x) => logit(g(x)));
    return [0, 1, 2, 3, 4].map((k) => median(t.slice(20 * k, 20 * k + 20)));
  }

  function linspace(a, b, n) {
    const step = (b - a) / (n - 1);
    const out = [];
    for (let i = 0; i < n; i++) out.push(a + i * step);
    out[n - 1] = b;
    return out;
  }

  function supError(net, f, points) {
    const ys = evaluate(net, points);
    let worst = 0.0;
    points.forEach((p, i) => {
      const want = Array.isArray(p) ? f(...p) : f(p);
      worst = Math.max(worst, Math.abs(ys[i] - want));
    });
    return worst;
  }

  const U = {
    STEP_WEIGHT, TOWER_WEIGHT, DESIGN_EDGES, sigmoid, logit, relu, sigmoidLike,
    goalFunction, goalFunction2d, evaluate, singleNeuron, stepLayer,
    weightedStepsNet, stepNet, bumpsNet, bumpNet, towerNet, gridTowersNet,
    parallelSum, shiftedEdges, approximate1d, approximate2d, designError,
    designSolution, supError, linspace,
  };
  window.NNDLUniversality = U;

  /* ------------------------------------------------------------------ */
  /* Part 2: widgets                                                     */
  /* ------------------------------------------------------------------ */

  const SVG = "http://www.w3.org/2000/svg";
  const XS = linspace(0, 1, 201);

  function el(tag, attrs, parent, ns) {
    const node = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (parent) parent.appendChild(node);
    return node;
  }

  const fmt = (v, digits) => {
    const d = digits === undefined ? 2 : digits;
    const s = Number(v).toFixed(d);
    return s.startsWith("-") ? "\u2212" + s.slice(1) : s;
  };

  function decimalsOf(step) {
    const s = String(step);
    return s.includes(".") ? s.split(".")[1].length : 0;
  }

  /* ---- a 2-D line plot in SVG ---- */
  function linePlot(parent, opts) {
    const W = 480;
    const H = 280;
    const m = { l: 46, r: 12, t: 12, b: 36 };
    const svg = el("svg", {
      viewBox: `0 0 ${W} ${H}`, class: "nndl-plot", role: "img",
      "aria-label": opts.label || "plot",
    }, parent, SVG);
    const clipId = "clip-" + Math.random().toString(36).slice(2);
    const defs = el("defs", {}, svg, SVG);
    const cp = el("clipPath", { id: clipId }, defs, SVG);
    el("rect", { x: m.l, y: m.t, width: W - m.l - m.r, height: H - m.t - m.b }, cp, SVG);
    const axes = el("g", { class: "nndl-axes" }, svg, SVG);
    const layer = el("g", { "clip-path": `url(#${clipId})` }, svg, SVG);
    const sx = (x) => m.l + (x - opts.x[0]) / (opts.x[1] - opts.x[0]) * (W - m.l - m.r);
    let yr = opts.y;
    const sy = (y) => H - m.b - (y - yr[0]) / (yr[1] - yr[0]) * (H - m.t - m.b);

    function drawAxes() {
      axes.textContent = "";
      el("rect", { x: m.l, y: m.t, width: W - m.l - m.r, height: H - m.t - m.b,
        class: "nndl-frame" }, axes, SVG);
      for (let i = 0; i <= 5; i++) {
        const x = opts.x[0] + i * (opts.x[1] - opts.x[0]) / 5;
        el("line", { x1: sx(x), x2: sx(x), y1: H - m.b, y2: H - m.b + 4 }, axes, SVG);
        el("text", { x: sx(x), y: H - m.b + 16, "text-anchor": "middle" }, axes, SVG)
          .textContent = fmt(x, 1);
      }
      const span = yr[1] - yr[0];
      const step = span > 4 ? 1 : span > 2 ? 0.5 : span > 0.8 ? 0.2 : 0.1;
      for (let y = Math.ceil(yr[0] / step) * step; y <= yr[1] + 1e-9; y += step) {
        el("line", { x1: m.l - 4, x2: W - m.r, y1: sy(y), y2: sy(y),
          class: Math.abs(y) < 1e-9 ? "nndl-zero" : "nndl-grid" }, axes, SVG);
        el("text", { x: m.l - 7, y: sy(y) + 4, "text-anchor": "end" }, axes, SVG)
          .textContent = fmt(y, step < 0.5 ? 1 : step < 1 ? 1 : 0);
      }
      el("text", { x: W - m.r, y: H - 4, "text-anchor": "end", class: "nndl-axis-label" },
        axes, SVG).textContent = opts.xLabel || "x";
    }
    drawAxes();

    return {
      svg: svg,
      update(curves, markers, yRange) {
        if (yRange && (yRange[0] !== yr[0] || yRange[1] !== yr[1])) {
          yr = yRange;
          drawAxes();
        }
        layer.textContent = "";
        curves.forEach((c) => {
          const pts = c.xs.map((x, i) => {
            const y = Math.max(Math.min(c.ys[i], yr[1] + 10), yr[0] - 10);
            return `${sx(x).toFixed(2)},${sy(y).toFixed(2)}`;
          });
          el("polyline", { points: pts.join(" "), class: "nndl-curve " + (c.cls || "c1") },
            layer, SVG);
        });
        (markers || []).forEach((mk) => {
          el("line", { x1: sx(mk.x), x2: sx(mk.x), y1: m.t, y2: H - m.b,
            class: "nndl-marker" }, layer, SVG);
          if (mk.text) {
            el("text", { x: sx(mk.x) + 4, y: m.t + 14, class: "nndl-marker-text" }, layer, SVG)
              .textContent = mk.text;
          }
        });
        svg.setAttribute("aria-label", opts.describe ? opts.describe() : opts.label);
      },
    };
  }

  /* ---- a 3-D surface drawn on a canvas (fixed oblique camera) ---- */
  const COLORMAP = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];

  function colorAt(t) {
    const u = clip(t, 0, 1) * (COLORMAP.length - 1);
    const i = Math.min(Math.floor(u), COLORMAP.length - 2);
    const f = u - i;
    return COLORMAP[i].map((c, k) => c + f * (COLORMAP[i + 1][k] - c));
  }

  function surfacePlot(parent, opts) {
    const W = 480;
    const H = 360;
    const canvas = el("canvas", { width: W * 2, height: H * 2, class: "nndl-surface",
      role: "img", "aria-label": opts.label || "surface" }, parent);
    const ctx = canvas.getContext("2d");
    ctx.scale(2, 2);
    let last = null;
    const cos = Math.cos(Math.PI / 6);
    const sin = Math.sin(Math.PI / 6);
    const S = 190;
    const Z = 150;
    // Camera in front of the (1, 1) corner: x runs to the lower right, y to the lower left.
    const proj = (x, y, z, zr) => [W / 2 + (x - y) * cos * S,
      135 + (x + y) * sin * S - (z - zr[0]) / (zr[1] - zr[0]) * Z * 0.8];

    function draw(xs, ys, zs, zr) {
      last = [xs, ys, zs, zr];
      const style = getComputedStyle(canvas);
      const fg = style.getPropertyValue("--nndl-fg").trim() || "#222";
      ctx.clearRect(0, 0, W, H);
      ctx.lineWidth = 0.4;
      ctx.strokeStyle = "rgba(0,0,0,0.35)";
      const n = xs.length;
      const m = ys.length;
      // Floor outline first.
      ctx.save();
      ctx.strokeStyle = fg;
      ctx.lineWidth = 1;
      ctx.beginPath();
      [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]].forEach(([x, y], k) => {
        const [px, py] = proj(x, y, zr[0], zr);
        if (k === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
      });
      ctx.stroke();
      ctx.fillStyle = fg;
      ctx.font = "12px sans-serif";
      // Label the two front edges: x grows along the lower left one, y along the lower right.
      const [lx, ly] = proj(0.5, 1.16, zr[0], zr);
      ctx.fillText("x", lx - 4, ly + 4);
      const [mx, my] = proj(1.16, 0.5, zr[0], zr);
      ctx.fillText("y", mx - 4, my + 4);
      // A vertical z axis at the left corner (x = 0, y = 1), ticks at both ends and 0.
      const [ax0, ay0] = proj(0, 1, zr[0], zr);
      const [, ay1] = proj(0, 1, zr[1], zr);
      ctx.beginPath();
      ctx.moveTo(ax0, ay0);
      ctx.lineTo(ax0, ay1);
      ctx.stroke();
      const ticks = zr[0] < 0 && zr[1] > 0 ? [zr[0], 0, zr[1]] : [zr[0], zr[1]];
      ticks.forEach((t) => {
        const [, ty] = proj(0, 1, t, zr);
        ctx.beginPath();
        ctx.moveTo(ax0 - 4, ty);
        ctx.lineTo(ax0, ty);
        ctx.stroke();
        ctx.fillText(fmt(t, 0), ax0 - 22, ty + 4);
      });
      ctx.restore();
      // Painter's algorithm: far cells (small x + y) first.
      const cells = [];
      for (let i = 0; i + 1 < n; i++) for (let j = 0; j + 1 < m; j++) cells.push([i, j]);
      cells.sort((p, q) => p[0] + p[1] - (q[0] + q[1]));
      cells.forEach(([i, j]) => {
        const corners = [[i, j], [i + 1, j], [i + 1, j + 1], [i, j + 1]];
        const z = corners.map(([a, b]) => clip(zs[a][b], zr[0], zr[1]));
        const mean = (z[0] + z[1] + z[2] + z[3]) / 4;
        const shade = 0.75 + 0.25 * clip(1 - Math.abs(z[1] - z[3]) * 2, 0, 1);
        const [r, g, b] = colorAt((mean - zr[0]) / (zr[1] - zr[0])).map((c) => c * shade);
        ctx.fillStyle = `rgb(${r | 0},${g | 0},${b | 0})`;
        ctx.beginPath();
        corners.forEach(([a, b], k) => {
          const [px, py] = proj(xs[a], ys[b], z[k], zr);
          if (k === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
        });
        ctx.closePath();
        ctx.fill();
        ctx.stroke();
      });
      canvas.setAttribute("aria-label", opts.describe ? opts.describe() : opts.label);
    }
    // Redraw when the reader switches between light and dark mode.
    new MutationObserver(() => { if (last) draw(...last); })
      .observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    return { canvas: canvas, update: draw };
  }

  /* ---- controls ---- */
  function slider(parent, id, spec, value, onInput) {
    const row = el("div", { class: "nndl-control" }, parent);
    const label = el("label", { for: id }, row);
    label.innerHTML = spec.label;
    const input = el("input", { type: "range", id: id, name: spec.name, min: spec.min,
      max: spec.max, step: spec.step, value: value }, row);
    const out = el("output", { for: id, id: id + "-value" }, row);
    const digits = decimalsOf(spec.step);
    const show = () => {
      const v = Number(input.value);
      out.textContent = fmt(v, digits);
      input.setAttribute("aria-valuetext", `${spec.text || spec.name} = ${fmt(v, digits)}`);
    };
    input.addEventListener("input", () => { show(); onInput(); });
    input.addEventListener("change", () => { show(); onInput(); });
    show();
    return { input: input, refresh: show };
  }

  function button(parent, text, onClick) {
    const b = el("button", { type: "button", class: "nndl-button" }, parent);
    b.textContent = text;
    b.addEventListener("click", onClick);
    return b;
  }

  /* ---- widget kinds ---- */
  // Each kind: params (slider specs with defaults) and compute(state, widget)
  // returning {curves, markers, y, readout, values} for 1-D plots or
  // {surface: {xs, ys, zs, zr}, readout, values} for 2-D ones.
  const P = (name, label, min, max, step, value, text) =>
    ({ name, label, min, max, step, value, text: text || name });

  const curveOf = (net) => evaluate(net, XS);

  const KINDS = {};

  KINDS.neuron = {
    params: [P("w", "weight <i>w</i>", -999, 999, 1, 8), P("b", "bias <i>b</i>", -999, 999, 1, -4)],
    compute(s, cfg) {
      const act = cfg.activation || "sigmoid";
      const ys = curveOf(singleNeuron(s.w, s.b, act));
      const step = s.w !== 0 ? -s.b / s.w : null;
      const inRange = step !== null && step >= 0 && step <= 1;
      return {
        curves: [{ xs: XS, ys: ys }], y: cfg.y || [-0.2, 1.2],
        markers: inRange ? [{ x: step, text: "s = \u2212b/w = " + fmt(step) }] : [],
        readout: step === null ? "w = 0: the output is constant"
          : `step position s = \u2212b/w = ${fmt(step, 3)}`,
        values: { x: XS, y: ys, s: step },
      };
    },
  };

  KINDS.step = {
    params: [P("s", "step position <i>s</i>", 0, 1, 0.01, 0.4)],
    compute(s) {
      const ys = curveOf(stepNet(s.s));
      return {
        curves: [{ xs: XS, ys: ys }], y: [-0.2, 1.2], markers: [{ x: s.s }],
        readout: `w = 1000, b = \u22121000 s = ${fmt(-1000 * s.s, 0)}`,
        values: { x: XS, y: ys },
      };
    },
  };

  KINDS.pair = {
    params: [P("s1", "<i>s</i><sub>1</sub>", 0, 1, 0.01, 0.4),
      P("s2", "<i>s</i><sub>2</sub>", 0, 1, 0.01, 0.6),
      P("w1", "<i>w</i><sub>1</sub>", -3, 3, 0.1, 0.6),
      P("w2", "<i>w</i><sub>2</sub>", -3, 3, 0.1, 1.2)],
    compute(s) {
      const ys = curveOf(weightedStepsNet([s.s1, s.s2], [s.w1, s.w2]));
      return {
        curves: [{ xs: XS, ys: ys }], y: [-3, 3],
        readout: "weighted output w\u2081a\u2081 + w\u2082a\u2082",
        values: { x: XS, y: ys },
      };
    },
  };

  function bumpParams(cfg) {
    const n = cfg.bumps || 1;
    const specs = [];
    const init = cfg.init || {};
    for (let k = 1; k <= n; k++) {
      if (!cfg.fixedSteps) {
        specs.push(P("s" + k, `bump ${k}: start`, 0, 1, 0.01, init["s" + k] ?? 0.4));
        specs.push(P("t" + k, `bump ${k}: end`, 0, 1, 0.01, init["t" + k] ?? 0.6));
      }
      specs.push(P("h" + k, n === 1 ? "height <i>h</i>" : `bump ${k}: height <i>h</i><sub>${k}</sub>`,
        cfg.hMin ?? -3, cfg.hMax ?? 3, 0.1, init["h" + k] ?? 0.6, "h" + k));
    }
    return specs;
  }

  function bumpsOf(s, cfg) {
    const n = cfg.bumps || 1;
    const pairs = [];
    const heights = [];
    for (let k = 1; k <= n; k++) {
      pairs.push(cfg.fixedSteps ? cfg.fixedSteps[k - 1] : [s["s" + k], s["t" + k]]);
      heights.push(s["h" + k]);
    }
    return { pairs, heights };
  }

  KINDS.bumps = {
    params: bumpParams,
    compute(s, cfg) {
      const { pairs, heights } = bumpsOf(s, cfg);
      const ys = curveOf(bumpsNet(pairs, heights));
      return {
        curves: [{ xs: XS, ys: ys }], y: cfg.y || [-3, 3],
        readout: pairs.map((p, k) => `h${k + 1} = ${fmt(heights[k], 1)} on [${fmt(p[0])}, ${fmt(p[1])}]`).join("; "),
        values: { x: XS, y: ys, intervals: pairs, heights: heights },
      };
    },
  };

  KINDS.design = {
    params(cfg) {
      return bumpParams({ bumps: 5, fixedSteps: DESIGN_PAIRS, hMin: -3, hMax: 3, init: cfg.init });
    },
    compute(s) {
      const heights = [1, 2, 3, 4, 5].map((k) => s["h" + k]);
      const hidden = curveOf(bumpsNet(DESIGN_PAIRS, heights));
      const out = curveOf(bumpsNet(DESIGN_PAIRS, heights, { output: "sigmoid" }));
      const err = designError(heights);
      return {
        curves: [{ xs: XS, ys: XS.map((x) => logit(goalFunction(x))), cls: "c2" },
          { xs: XS, ys: hidden }],
        y: [-3, 3],
        second: [{ xs: XS, ys: XS.map(goalFunction), cls: "c2" }, { xs: XS, ys: out }],
        readout: `Average deviation: ${err.toFixed(2)}` +
          (err < 0.405 ? " \u2014 Success! 0.40 or below." : " (goal: 0.40 or below)"),
        values: { x: XS, hidden: hidden, output: out, error: err, heights: heights },
      };
    },
    buttons: [
      ["Solve it (median of \u03c3\u207b\u00b9\u2218f per bump)", (w) => w.set(Object.fromEntries(
        designSolution().map((h, k) => ["h" + (k + 1), Math.round(h * 10) / 10])))],
      ["Random heights", (w) => w.set(Object.fromEntries([1, 2, 3, 4, 5].map((k) =>
        ["h" + k, Math.round((Math.random() * 3 - 1.5) * 10) / 10])))],
    ],
  };

  KINDS.approx = {
    params: [P("n", "bumps per copy <i>N</i>", 1, 60, 1, 5),
      P("logw", "log\u2081\u2080 of the step weight", 1, 4, 0.1, 3, "log10 w"),
      P("m", "shifted copies <i>M</i>", 1, 6, 1, 1)],
    compute(s) {
      const stepWeight = 10 ** s.logw;
      const net = approximate1d(goalFunction, s.n, { stepWeight: stepWeight, nShifts: s.m });
      const ys = curveOf(net);
      const fs = XS.map(goalFunction);
      const err = ys.reduce((e, y, i) => Math.max(e, Math.abs(y - fs[i])), 0);
      return {
        curves: [{ xs: XS, ys: fs, cls: "c2" }, { xs: XS, ys: ys }], y: [0, 1.2],
        readout: `w = ${stepWeight.toFixed(0)}; ${net.weights[0].length} hidden neurons; ` +
          `largest error on the plotted points: ${err.toFixed(4)}`,
        values: { x: XS, y: ys, error: err, stepWeight: stepWeight },
      };
    },
  };

  /* 2-D widgets: a surface over a GRID x GRID grid of the unit square. */
  const GRID = linspace(0, 1, 41);
  const GRID_POINTS = [].concat(...GRID.map((x) => GRID.map((y) => [x, y])));

  function surfaceOf(net, zr) {
    const flat = evaluate(net, GRID_POINTS);
    const zs = GRID.map((_, i) => flat.slice(i * GRID.length, (i + 1) * GRID.length));
    return { surface: { xs: GRID, ys: GRID, zs: zs, zr: zr }, values: { x: GRID, y: GRID, z: zs } };
  }

  const TOWER_STEPS = [0.4, 0.6, 0.3, 0.7];
  const TOWER_AXES = [0, 0, 1, 1];
  const TWO_TOWERS = [[[0.1, 0.35], [0.15, 0.45]], [[0.55, 0.85], [0.5, 0.8]]];

  KINDS.surface = {
    params(cfg) {
      const mode = cfg.mode;
      if (mode === "neuron") {
        return [P("w1", "weight <i>w</i><sub>1</sub> (on x)", -999, 999, 1, 8),
          P("w2", "weight <i>w</i><sub>2</sub> (on y)", -999, 999, 1, 0),
          P("b", "bias <i>b</i>", -999, 999, 1, -5)];
      }
      if (mode === "xstep" || mode === "ystep") return [P("s", "step position <i>s</i>", 0, 1, 0.01, 0.5)];
      if (mode === "xbump" || mode === "ybump") {
        return [P("s1", "<i>s</i><sub>1</sub>", 0, 1, 0.01, 0.3), P("s2", "<i>s</i><sub>2</sub>", 0, 1, 0.01, 0.7),
          P("h", "height <i>h</i>", -2, 2, 0.1, 0.6)];
      }
      if (mode === "xybump") return [P("h", "weight <i>h</i>", -2, 2, 0.1, 0.3)];
      if (mode === "tower") {
        return [P("h", "weight <i>h</i>", 0, 30, 0.1, 0.3), P("b", "output bias <i>b</i>", -45, 5, 0.1, -0.5)];
      }
      if (mode === "twotowers") {
        return [P("w1", "tower 1 weight", -1, 1, 0.05, 0.7), P("w2", "tower 2 weight", -1, 1, 0.05, 0.5)];
      }
      if (mode === "towers") {
        return [P("n", "towers per side <i>N</i>", 1, 12, 1, 4), P("m", "shifted copies <i>M</i>", 1, 4, 1, 1)];
      }
      throw new Error("unknown surface mode " + mode);
    },
    compute(s, cfg) {
      const mode = cfg.mode;
      let net;
      let zr = [0, 1];
      let readout = "";
      if (mode === "neuron") {
        net = singleNeuron([s.w1, s.w2], s.b);
        readout = s.w1 !== 0 && s.w2 === 0 ? `step in x at s = \u2212b/w\u2081 = ${fmt(-s.b / s.w1, 3)}` : "";
      } else if (mode === "xstep" || mode === "ystep") {
        net = weightedStepsNet([s.s], [1.0], { axes: [mode === "xstep" ? 0 : 1], nIn: 2 });
        readout = `step neuron: weight 1000 on ${mode[0]}, bias ${fmt(-1000 * s.s, 0)}`;
      } else if (mode === "xbump" || mode === "ybump") {
        const ax = mode === "xbump" ? 0 : 1;
        net = weightedStepsNet([s.s1, s.s2], [s.h, -s.h], { axes: [ax, ax], nIn: 2 });
        zr = [-1, 1];
      } else if (mode === "xybump") {
        net = weightedStepsNet(TOWER_STEPS, [s.h, -s.h, s.h, -s.h], { axes: TOWER_AXES, nIn: 2 });
        zr = [-1, 1];
      } else if (mode === "tower") {
        net = weightedStepsNet(TOWER_STEPS, [s.h, -s.h, s.h, -s.h],
          { axes: TOWER_AXES, nIn: 2, outputBias: s.b, output: "sigmoid" });
        readout = `b / h = ${s.h ? fmt(s.b / s.h) : "\u2014"} (a tower needs a large h and b \u2248 \u22123h/2)`;
      } else if (mode === "twotowers") {
        net = parallelSum(TWO_TOWERS.map((cell, k) =>
          gridTowersNet(cell, [[k === 0 ? s.w1 : s.w2]])));
        zr = [-1, 1];
      } else {
        net = approximate2d(goalFunction2d, s.n, { nShifts: s.m });
        const err = supErrorOnGrid(net);
        readout = `${net.weights[1].length} tower neurons; largest error on the grid: ${err.toFixed(3)}`;
        const out = surfaceOf(net, [0, 1]);
        out.values.error = err;
        return Object.assign(out, { readout: readout });
      }
      return Object.assign(surfaceOf(net, zr), { readout: readout });
    },
  };

  function supErrorOnGrid(net) {
    return supError(net, goalFunction2d, GRID_POINTS);
  }

  /* ---- mounting ---- */
  function mount(root) {
    const kind = KINDS[root.dataset.widget];
    if (!kind) throw new Error("unknown widget " + root.dataset.widget);
    const cfg = JSON.parse(root.dataset.config || "{}");
    cfg.label = cfg.label || root.getAttribute("aria-label") || root.dataset.widget;
    const specs = typeof kind.params === "function" ? kind.params(cfg) : kind.params;
    const init = JSON.parse(root.dataset.params || "{}");
    root.classList.add("nndl-widget-live");
    if (cfg.title) {
      el("p", { class: "nndl-widget-title" }, root).textContent = cfg.title;
    }
    const plots = el("div", { class: "nndl-plots" }, root);
    const controls = el("div", { class: "nndl-controls" }, root);
    const readout = el("p", { class: "nndl-readout", "aria-live": "polite" }, root);
    const state = {};
    const inputs = {};
    let view = null;
    const describe = () => `${cfg.label}: ` +
      specs.map((p) => `${p.text} = ${state[p.name]}`).join(", ") +
      (view && view.readout ? ". " + view.readout : "");
    const is2d = root.dataset.widget === "surface";
    const plot = is2d ? surfacePlot(plots, { label: cfg.label, describe })
      : linePlot(plots, { x: [0, 1], y: cfg.y || [-1, 1], label: cfg.label, describe });
    const plot2 = root.dataset.widget === "design"
      ? linePlot(plots, { x: [0, 1], y: [0, 1], label: "network output \u03c3(\u2211) and f", describe })
      : null;

    function render() {
      specs.forEach((p) => { state[p.name] = Number(inputs[p.name].input.value); });
      view = kind.compute(state, cfg);
      if (is2d) {
        const sf = view.surface;
        plot.update(sf.xs, sf.ys, sf.zs, sf.zr);
      } else {
        plot.update(view.curves, view.markers, view.y);
        if (plot2) plot2.update(view.second, [], [0, 1]);
      }
      readout.textContent = view.readout || "";
      root.dataset.state = JSON.stringify(state);
      root.dataset.values = JSON.stringify(view.values);
      root.dataset.renders = String(Number(root.dataset.renders || 0) + 1);
    }

    specs.forEach((p) => {
      const value = init[p.name] ?? p.value;
      inputs[p.name] = slider(controls, `${root.id}-${p.name}`, p, value, render);
    });
    const api = {
      root: root,
      state: state,
      set(values) {
        Object.entries(values).forEach(([k, v]) => {
          inputs[k].input.value = v;
          inputs[k].refresh();
        });
        render();
      },
      values: () => JSON.parse(root.dataset.values),
    };
    if (kind.buttons) {
      const bar = el("div", { class: "nndl-buttons" }, root);
      kind.buttons.forEach(([text, act]) => button(bar, text, () => act(api)));
    }
    render();
    return api;
  }

  const registry = {};
  window.NNDLWidgets = registry;

  function mountAll() {
    document.querySelectorAll(".nndl-widget[data-widget]").forEach((root) => {
      if (!registry[root.id]) registry[root.id] = mount(root);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mountAll);
  } else {
    mountAll();
  }
})();
