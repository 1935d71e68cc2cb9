/* MathJax on the course's site: Sphinx loads this file (conf.py's mathjax_path) after its
 * `window.MathJax = {...}` settings. The live figures come first: this waits until every figure
 * has replaced its picture (at most 5 s), then loads the course's MathJax 3.2.2 from beside this
 * file and typesets the page in slices of a few formulas, those on screen first, so that
 * neither a figure's first drawing nor a key on its slider waits behind hundreds of formulas. */
(() => {
  const SLICE = 20;
  const mathjax = new URL("tex-svg-full.js", document.currentScript.src).href;
  const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));

  const figuresStarted = () => new Promise((resolve) => {
    const t0 = performance.now();
    const check = () => {
      const waiting = typeof DecompressionStream === "function"
        && document.querySelector("div.lessons-widget img.lessons-widget-picture");
      if (!waiting || performance.now() - t0 > 5000) resolve();
      else setTimeout(check, 20);
    };
    check();
  });

  async function typesetInSlices() {
    const all = Array.from(document.querySelectorAll(".math"));
    const first = Math.max(0, all.findIndex((el) => el.getBoundingClientRect().bottom >= 0));
    const ordered = all.slice(first).concat(all.slice(0, first));
    for (let i = 0; i < ordered.length; i += SLICE) {
      await MathJax.typesetPromise(ordered.slice(i, i + SLICE));
      await nextTask();
    }
    document.documentElement.dataset.mathTypeset = "done";
  }

  window.MathJax = Object.assign(window.MathJax || {}, {
    startup: {
      typeset: false,
      ready() {
        MathJax.startup.defaultReady();
        MathJax.startup.promise.then(typesetInSlices);
      },
    },
  });
  figuresStarted().then(() => {
    const script = document.createElement("script");
    script.src = mathjax;
    script.async = true;
    document.head.appendChild(script);
  });
})();
