/*
 * The JS half of the shared test vectors: runs inside the built chapter page
 * (after book/_static/widgets/universality.js has loaded) and compares the
 * JS port with what nndl_core.universality computed
 * (_build_tools/universality_vectors.py -> universality_vectors.json).
 * Returns a list of failure messages (empty: all agree).
 */
window.runUniversalityVectors = function (vectors, tolerance) {
  "use strict";
  const U = window.NNDLUniversality;
  const tol = tolerance || 1e-9;
  const failures = [];
  let checked = 0;
  const F = { goal: U.goalFunction, goal2d: U.goalFunction2d };

  function close(actual, expected, where) {
    if (Array.isArray(expected)) {
      if (!Array.isArray(actual) || actual.length !== expected.length) {
        failures.push(`${where}: shape ${JSON.stringify(actual).slice(0, 80)} vs length ${expected.length}`);
        return;
      }
      expected.forEach((e, i) => close(actual[i], e, `${where}[${i}]`));
      return;
    }
    checked += 1;
    const ok = Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected));
    if (!ok) failures.push(`${where}: JS ${actual} vs Python ${expected}`);
  }

  const builders = {
    singleNeuron: (a) => U.singleNeuron(...a),
    stepNet: (a) => U.stepNet(...a),
    weightedStepsNet: (a) => U.weightedStepsNet(...a),
    bumpNet: (a) => U.bumpNet(...a),
    bumpsNet: (a) => U.bumpsNet(...a),
    towerNet: (a) => U.towerNet(...a),
    gridTowersNet: (a) => U.gridTowersNet(...a),
    parallelSumExample: () =>
      U.parallelSum([U.stepNet(0.3), U.bumpNet(0.5, 0.8, -1.5)], "sigmoid"),
    approximate1d: (a) => U.approximate1d(F[a[0]], a[1], a[2]),
    approximate2d: (a) => U.approximate2d(F[a[0]], a[1], a[2]),
  };

  vectors.network_cases.forEach((c) => {
    let net;
    try {
      net = builders[c.call](c.args);
    } catch (err) {
      failures.push(`${c.name}: ${err}`);
      return;
    }
    close(net.weights, c.net.weights, `${c.name} weights`);
    close(net.biases, c.net.biases, `${c.name} biases`);
    if (JSON.stringify(net.activations) !== JSON.stringify(c.net.activations)) {
      failures.push(`${c.name}: activations ${net.activations} vs ${c.net.activations}`);
    }
    // Outputs of the JS-built net, and of the Python net run by the JS evaluate.
    close(U.evaluate(net, c.points), c.expected, `${c.name} outputs`);
    close(U.evaluate(c.net, c.points), c.expected, `${c.name} outputs (Python weights)`);
  });

  vectors.scalar_cases.forEach((c) => {
    let actual;
    if (c.call === "goalFunction2d") actual = c.points.map((p) => U.goalFunction2d(...p));
    else if (c.call === "shiftedEdges") actual = c.args.map((a) => U.shiftedEdges(...a));
    else if (c.call === "designError") actual = c.args.map((h) => U.designError(h));
    else if (c.call === "designSolution") actual = U.designSolution();
    else actual = c.points.map((x) => U[c.call](x));
    close(actual, c.expected, c.name);
  });
  return { failures: failures, checked: checked };
};
