// In-page helpers of tests/test_browser_routes.py, added to every page it opens
// (Playwright's add_init_script) before JupyterLab loads. Everything is read from the
// page itself: JupyterLab's application object (window.jupyterapp, exposed by the test's
// server), the notebook's cells and outputs, and the course widgets' views
// (root.__courseWidget, set by lessons_lib/widgets/course_widgets.js for tests).
// Nothing here changes a widget's state; the tests change it as a reader does.
(() => {
  const R = {};
  window.__routes = R;

  R.frames = (n = 2) => new Promise((resolve) => {
    const step = (k) => (k ? requestAnimationFrame(() => step(k - 1)) : resolve(true));
    step(n);
  });

  R.panel = () => window.jupyterapp.shell.currentWidget;
  R.kernel = () => {
    const s = R.panel().sessionContext.session;
    return s && s.kernel;
  };

  /** Each course-widget output of the open notebook, in order; its view's root gets data-route-model. */
  R.views = () => {
    const out = [];
    R.panel().content.widgets.forEach((cell, i) => {
      if (cell.model.type !== "code") return;
      const outputs = cell.model.outputs;
      for (let j = 0; j < outputs.length; j++) {
        const view = outputs.get(j).data["application/vnd.jupyter.widget-view+json"];
        if (!view) continue;
        const child = cell.outputArea.widgets[j];
        const roots = child ? Array.from(child.node.querySelectorAll(".cw")) : [];
        for (const r of roots) r.dataset.routeModel = view.model_id;
        out.push({ cell: i, output: j, modelId: view.model_id, roots: roots.length,
          kind: roots.length ? roots[0].__courseWidget.model.get("kind") : null });
      }
    });
    return { views: out, total: document.querySelectorAll(".cw").length };
  };

  R.root = (id) => {
    const root = document.querySelector(`.cw[data-route-model="${id}"]`);
    if (!root) throw new Error(`no course widget view of model ${id}`);
    return root;
  };
  R.canvas = (id) => R.root(id).querySelector("canvas.cw-canvas");

  /** FNV-1a over the canvas' pixels. */
  R.hash = (canvas) => {
    if (!canvas.width || !canvas.height) return 0;
    const words = new Uint32Array(canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data.buffer);
    let h = 2166136261 >>> 0;
    for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i], 16777619) >>> 0;
    return h;
  };

  /** Fraction of the canvas' pixels that are not (near) white: 0 for a blank figure. */
  R.inked = (canvas) => {
    if (!canvas || !canvas.width || !canvas.height) return 0;
    const d = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0, ink = 0;
    for (let i = 0; i < d.length; i += 4 * 7) {
      n += 1;
      if (d[i + 3] > 0 && Math.min(d[i], d[i + 1], d[i + 2]) < 200) ink += 1;
    }
    return ink / n;
  };

  const plain = (v) => v === null || ["string", "number", "boolean"].includes(typeof v)
    || (Array.isArray(v) && v.every(plain))
    || (typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype && Object.values(v).every(plain));

  /** What a view shows: the model's values of `keys`, the title, slider readouts, readout lines, legend, canvas. */
  R.shown = (id, keys) => {
    const root = R.root(id), view = root.__courseWidget, canvas = R.canvas(id);
    const state = {};
    for (const k of keys) {
      const v = view.model.get(k);
      if (plain(v)) state[k] = v;
    }
    const sliders = {};
    for (const s of root.querySelectorAll(".cw-slider")) {
      sliders[s.querySelector("input").getAttribute("aria-label")] = s.querySelector("output.cw-readout").textContent;
    }
    const title = root.querySelector(".cw-title");
    const box = root.querySelector(".cw-readout-box");
    const drawn = view.drawn || {};
    return {
      state, sliders,
      title: title ? title.textContent : null,
      box: box.children.length ? Array.from(box.children, (e) => e.textContent) : [box.textContent],
      lines: drawn.lines || null, legend: drawn.legend || null, drawnTitle: drawn.title || null,
      error: root.querySelector(".cw-error").textContent,
      canvas: { width: canvas.width, height: canvas.height, cssWidth: canvas.getBoundingClientRect().width,
        inked: R.inked(canvas) },
      draws: view.stats.draws,
    };
  };

  // A second copy of the module the page loaded (the model's own _esm), for fresh views.
  const modules = new Map();
  R.module = (source) => {
    if (!modules.has(source)) {
      const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
      modules.set(source, import(url).finally(() => URL.revokeObjectURL(url)));
    }
    return modules.get(source);
  };

  /** A model that holds a copy of a state and never changes it by itself. */
  class SnapshotModel {
    constructor(state) { this.state = state; this.listeners = new Map(); }
    get(key) { return this.state[key]; }
    set(key, value) { this.state[key] = value; }
    on(event, cb) { (this.listeners.get(event) || this.listeners.set(event, new Set()).get(event)).add(cb); }
    off(event, cb) { const s = this.listeners.get(event); if (s) s.delete(cb); }
    save_changes() {}
    send() {}
  }

  /**
   * Render a fresh view of the same state (the model's current values of `keys` and its kind)
   * at the same width, outside the notebook, and compare the two canvases pixel for pixel.
   */
  R.compareFresh = async (id, keys) => {
    const root = R.root(id), view = root.__courseWidget;
    const mod = await R.module(view.model.get("_esm"));
    const state = { kind: view.model.get("kind") };
    for (const k of keys) state[k] = view.model.get(k);
    const host = document.createElement("div");
    host.style.cssText = `position: fixed; left: 0; top: 0; width: ${root.clientWidth}px; `
      + "visibility: hidden; pointer-events: none; z-index: -1;";
    document.body.appendChild(host);
    const cleanup = mod.default.render({ model: new SnapshotModel(state), el: host });
    try {
      await R.frames(2);
      const a = R.canvas(id), b = host.querySelector("canvas.cw-canvas");
      const fresh = host.querySelector(".cw").__courseWidget.drawn || {};
      const result = { size: [a.width, a.height], freshSize: [b.width, b.height], differ: null,
        freshTitle: (host.querySelector(".cw-title") || {}).textContent || null,
        freshLines: fresh.lines || null, freshLegend: fresh.legend || null };
      if (a.width === b.width && a.height === b.height && a.width && a.height) {
        const da = a.getContext("2d").getImageData(0, 0, a.width, a.height).data;
        const db = b.getContext("2d").getImageData(0, 0, b.width, b.height).data;
        let differ = 0;
        for (let i = 0; i < da.length; i += 4) {
          if (da[i] !== db[i] || da[i + 1] !== db[i + 1] || da[i + 2] !== db[i + 2] || da[i + 3] !== db[i + 3]) differ += 1;
        }
        result.differ = differ;
        if (differ) result.freshPng = b.toDataURL("image/png");
      }
      return result;
    } finally {
      cleanup();
      host.remove();
    }
  };

  /** Run `code` in the notebook's kernel (no cell, no history) and return what it printed. */
  R.exec = async (code) => {
    const future = R.kernel().requestExecute({ code, silent: false, store_history: false, allow_stdin: false });
    let out = "";
    future.onIOPub = (msg) => {
      const t = msg.header.msg_type;
      if (t === "stream") out += msg.content.text;
      else if (t === "error") out += `\nERROR ${msg.content.ename}: ${msg.content.evalue}`;
    };
    await future.done;
    return out;
  };

  /** Geometry of a view and its output area (for the window-size checks). */
  R.layout = (id) => {
    const root = R.root(id), canvas = R.canvas(id);
    const output = root.closest(".jp-OutputArea-output");
    const scroller = root.closest(".jp-WindowedPanel-outer") || root.closest(".jp-Notebook");
    const rect = (e) => { const r = e.getBoundingClientRect(); return { left: r.left, right: r.right, width: r.width }; };
    const truncated = Array.from(root.querySelectorAll(".cw-label, .cw-readout, .cw-title, .cw-control span, button"))
      .filter((e) => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).display !== "inline")
      .map((e) => e.textContent);
    return {
      output: { ...rect(output), clientWidth: output.clientWidth, scrollWidth: output.scrollWidth },
      root: { ...rect(root), clientWidth: root.clientWidth, scrollWidth: root.scrollWidth },
      canvas: { ...rect(canvas), width: canvas.width, height: canvas.height },
      scroller: { ...rect(scroller), clientWidth: scroller.clientWidth, scrollWidth: scroller.scrollWidth },
      sliders: Array.from(root.querySelectorAll(".cw-slider")).map((s) => ({
        label: s.querySelector(".cw-label").textContent,
        width: s.getBoundingClientRect().width,
        track: s.querySelector("input[type=range]").getBoundingClientRect().width,
        right: s.getBoundingClientRect().right })),
      controls: Array.from(root.querySelectorAll(".cw-control, .cw-button")).map((c) => ({
        text: c.textContent.trim().slice(0, 40), ...rect(c) })),
      truncated,
    };
  };

  /** Scroll offsets of the window and of every element around a view's canvas (the notebook's scroller among them). */
  R.scrolls = (id) => {
    const out = [["window", window.scrollX, window.scrollY]];
    for (let e = R.canvas(id).parentElement; e; e = e.parentElement) {
      out.push([`${e.tagName.toLowerCase()}.${(e.className || "").toString().split(" ")[0]}`, e.scrollLeft, e.scrollTop]);
    }
    return out;
  };

  // --- runs: Run All started and finished, and the first figure drawn -----------------

  /** Watch the next run: when a run command starts, when a prompt first shows '*', the first drawn figure. */
  R.watchRun = () => {
    const run = { command: null, t0: null, started: false, firstFigure: null, firstFigureKind: null };
    R.run = run;
    const app = window.jupyterapp;
    const onCommand = (_, args) => {
      if (run.t0 === null && /run-all|restart-run-all|restart-and-run/.test(args.id)) {
        run.t0 = performance.now();
        run.command = args.id;
      }
    };
    app.commands.commandExecuted.connect(onCommand);
    const tick = () => {
      if (!run.started && Array.from(document.querySelectorAll(".jp-InputArea-prompt"))
        .some((p) => p.textContent.includes("*"))) run.started = true;
      if (run.t0 !== null && run.firstFigure === null) {
        for (const c of document.querySelectorAll(".cw canvas.cw-canvas")) {
          if (c.width && R.inked(c) > 0.005) {
            run.firstFigure = performance.now() - run.t0;
            run.firstFigureKind = c.closest(".cw").className;
            break;
          }
        }
      }
      if (run.firstFigure === null || !run.started) requestAnimationFrame(tick);
      else app.commands.commandExecuted.disconnect(onCommand);
    };
    requestAnimationFrame(tick);
    return true;
  };

  // --- timing: key press to changed pixels, Play's frames ----------------------------

  /**
   * Arm a probe on a view's canvas: at the next keydown (capture phase, anywhere) it takes the
   * event's time stamp, then checks the canvas at every animation frame; the sample is the time from
   * the key press to the first frame whose pixels differ from before the press, and how many frames
   * that took (1: the first frame after the key press already showed the change). A sample is void
   * if the view drew between arming and the key press (a change that was not the key's).
   */
  R.armKeyProbe = (id) => {
    const canvas = R.canvas(id), stats = R.root(id).__courseWidget.stats;
    const baseline = R.hash(canvas), draws = stats.draws;
    R.sample = new Promise((resolve) => {
      const onKey = (e) => {
        window.removeEventListener("keydown", onKey, true);
        const t0 = e.timeStamp, tk = performance.now();
        if (stats.draws !== draws) return resolve({ ms: null, void: true });
        let frames = 0;
        const tick = () => {
          const t1 = performance.now();
          frames += 1;
          if (R.hash(canvas) !== baseline) resolve({ ms: t1 - t0, fromHandler: t1 - tk, frames });
          else if (t1 - tk > 5000) resolve({ ms: null, frames });
          else requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      };
      window.addEventListener("keydown", onKey, true);
    });
    return true;
  };

  /**
   * Record the distinct pictures of a view's canvas, one check per animation frame, for `ms` after
   * the canvas first changes: the frames' time stamps (the rAF argument, relative to the first change)
   * and the shown step (the model's `frame`) at each.
   */
  R.countFrames = (id, ms, startTimeoutMs = 5000) => new Promise((resolve) => {
    const canvas = R.canvas(id), model = R.root(id).__courseWidget.model;
    let last = R.hash(canvas), first = null;
    const changes = [], steps = [];
    const t0 = performance.now();
    const tick = (ts) => {
      const h = R.hash(canvas);
      if (h !== last) {
        last = h;
        if (first === null) first = ts;
        changes.push(ts - first);
        steps.push(model.get("frame"));
      }
      if (first === null ? performance.now() - t0 < startTimeoutMs : ts - first < ms) requestAnimationFrame(tick);
      else resolve({ changes, steps });
    };
    requestAnimationFrame(tick);
  });
})();
