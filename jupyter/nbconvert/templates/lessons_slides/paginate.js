/* The course's slides: a slide taller than the deck continues on the slides below it.

   A lesson's cell can be longer than one slide (a lesson's opening cell holds its goals and
   prerequisites; a summary holds a page of findings). Scrolling inside a slide is awkward in front
   of a class, so once the formulas are typeset and the figures loaded, every slide whose content is
   taller than the deck's height (Reveal's `height`, in the slide's own pixels, the same at every
   window size) is cut into consecutive vertical slides that each fit:

   * the units are the slide's cells, except that a markdown cell is cut between its blocks
     (paragraphs, headings, tables) and a list between its items (a numbered list keeps its numbers);
   * units are laid into a slide until the next one would not fit; a heading left last on a slide
     moves to the next one with what follows it, and a heading that opens a slide keeps the unit
     after it; a check shown on a key press (a fragment) moves on with the claim before it, or, if
     that claim has a slide of its own, opens the next slide shown at once: no slide opens blank;
   * a single unit taller than a slide (a long paragraph, table or cell) keeps a slide of its own
     (with the heading before it or the checks after it, as above), shrunk to fit if a zoom of 0.75
     or more does, and scrolls if not.

   Nothing is re-rendered: the same nodes move, so typeset formulas and figures stay as they were.
   A continuation slide has the class `lessons-continued`. The deck's URL then holds the slide's
   indices in the cut deck, which are the same at every window size (Reveal's scroll view for
   narrow windows is off: the template sets scrollActivationWidth to null), so a bookmarked slide
   reloads; a reader who moves before the cut stays where they are. Interactive figures render
   after the cut, at their own height.
*/
(function () {
  "use strict";

  var STATE_CLASSES = ["present", "past", "future", "stack"];
  // the slide the address names, read before Reveal starts: Reveal rewrites the address to a slide
  // of the uncut deck (#/0/1 becomes #/0 when the first stack has one slide before the cut)
  var ASKED_FOR = /^#\/(\d+)(?:\/(\d+)(?:\/(\d+))?)?/.exec(window.location.hash);

  function markdownOf(cell) {
    return cell.classList && cell.classList.contains("jp-MarkdownCell")
      ? cell.querySelector(".jp-RenderedMarkdown") : null;
  }

  /* The slide's units in order: {cell, block, list}; block null for a whole cell, list the
     original list for a list item. */
  function unitsOf(slide) {
    var units = [];
    Array.prototype.forEach.call(slide.children, function (cell) {
      var md = markdownOf(cell);
      if (!md) { units.push({ cell: cell, block: null, list: null }); return; }
      Array.prototype.forEach.call(md.children, function (block) {
        if (block.tagName === "OL" || block.tagName === "UL") {
          Array.prototype.forEach.call(block.children, function (item) {
            units.push({ cell: cell, block: item, list: block });
          });
        } else {
          units.push({ cell: cell, block: block, list: null });
        }
      });
    });
    return units;
  }

  function isHeading(unit) {
    return unit.block !== null && unit.list === null && /^H[1-6]$/.test(unit.block.tagName);
  }

  function isFragment(unit) {  // a cell shown on a key press: a check of the claim before it
    return unit.block === null && unit.cell.classList.contains("fragment");
  }

  /* An empty copy of a markdown cell, to hold some of its blocks on another slide. */
  function shellOf(cell) {
    var shell = cell.cloneNode(true);
    if (cell.lessonsShells) shell.removeAttribute("id");  // the first copy keeps the cell's id
    cell.lessonsShells = (cell.lessonsShells || 0) + 1;
    shell.querySelector(".jp-RenderedMarkdown").replaceChildren();
    shell.lessonsCell = cell;
    return shell;
  }

  /* Put unit at the end of page; return a function that takes it out again. */
  function place(unit, page) {
    if (unit.block === null) {
      page.appendChild(unit.cell);
      return function () { page.removeChild(unit.cell); };
    }
    var last = page.lastElementChild, madeShell = null, madeList = null;
    if (!last || last.lessonsCell !== unit.cell) {
      madeShell = shellOf(unit.cell);
      page.appendChild(madeShell);
      last = madeShell;
    }
    var md = last.querySelector(".jp-RenderedMarkdown"), target = md;
    if (unit.list !== null) {
      var open = md.lastElementChild;
      if (!open || open.lessonsList !== unit.list) {
        madeList = unit.list.cloneNode(false);
        madeList.removeAttribute("id");
        madeList.lessonsList = unit.list;
        if (unit.list.tagName === "OL") {
          var first = unit.list.hasAttribute("start") ? unit.list.start : 1;
          madeList.start = first + unit.list.lessonsItems.indexOf(unit.block);
          if (madeList.start !== first) madeList.dataset.lessonsContinues = "";
        }
        md.appendChild(madeList);
        open = madeList;
      }
      target = open;
    }
    target.appendChild(unit.block);
    return function () {
      target.removeChild(unit.block);
      if (madeList) md.removeChild(madeList);
      if (madeShell) page.removeChild(madeShell);
    };
  }

  function overflows(page) {
    return page.scrollHeight > page.clientHeight + 1;
  }

  function newPageAfter(slide, previous) {
    var page = document.createElement("section");
    Array.prototype.forEach.call(slide.attributes, function (attr) {
      if (attr.name !== "id" && attr.name !== "style" && attr.name !== "hidden"
          && attr.name !== "aria-hidden") page.setAttribute(attr.name, attr.value);
    });
    STATE_CLASSES.forEach(function (c) { page.classList.remove(c); });
    page.classList.add("lessons-continued");
    page.style.display = "block";  // shown while it is filled and measured (Reveal sets it afterwards)
    previous.parentNode.insertBefore(page, previous.nextSibling);
    return page;
  }

  /* Cut one leaf slide (a section holding cells) into slides that fit; returns how many it made. */
  function cut(slide) {
    if (!overflows(slide)) return 1;
    var units = unitsOf(slide);
    if (units.length < 2) return 1;
    units.forEach(function (unit) {  // the original cells and lists are taken apart below
      if (unit.list !== null && !unit.list.lessonsItems) {
        unit.list.lessonsItems = Array.prototype.slice.call(unit.list.children);
      }
    });
    slide.replaceChildren();
    var page = slide, placed = [], pages = [slide];
    units.forEach(function (unit) {
      var undo = place(unit, page);
      var onlyHeadings = placed.every(function (p) { return isHeading(p.unit); });
      if (placed.length === 0 || onlyHeadings || !overflows(page)) {  // a heading is never left alone
        placed.push({ unit: unit, undo: undo });
        return;
      }
      undo();
      var carried = [];
      function carry() {
        var top = placed.pop();
        top.undo();
        carried.unshift(top.unit);
        return top.unit;
      }
      function keepsSomething(n) {  // would the first n placed units hold more than headings?
        return placed.slice(0, n).some(function (p) { return !isHeading(p.unit); });
      }
      if (isFragment(unit)) {  // a check goes on with the claim it checks: not alone on a blank slide
        var claim = placed.length - 1;
        while (claim >= 0 && isFragment(placed[claim].unit)) claim -= 1;
        if (claim > 0 && keepsSomething(claim)) while (placed.length > claim) carry();
      }
      while (isHeading(placed[placed.length - 1].unit) && keepsSomething(placed.length - 1)) carry();
      page = newPageAfter(slide, page);
      pages.push(page);
      placed = [];
      carried.concat([unit]).forEach(function (u) { placed.push({ unit: u, undo: place(u, page) }); });
    });
    pages.slice(1).forEach(function (added) {
      added.style.removeProperty("display");
      var opening = added.firstElementChild;
      if (opening && opening.classList.contains("fragment")) {  // its claim did not fit before it: shown at once
        opening.classList.remove("fragment");
        opening.classList.add("lessons-shown-fragment");
      }
    });
    return pages.length;
  }

  /* A slide still taller than the deck holds one unit that cannot be cut (with, at most, the heading
     before it or the checks after it): shrink its content to fit (CSS zoom, found by bisection:
     zoomed text reflows, and a figure sized by its width shrinks less than its zoom) if a zoom of
     0.75 or more fits; if not, it scrolls. */
  function fit(slide) {
    if (!overflows(slide)) return;
    var parts = Array.prototype.slice.call(slide.children);
    function zoom(z) { parts.forEach(function (el) { el.style.zoom = String(z); }); }
    // Reveal animates a fragment's every property (transition: all): measured at once, a zoomed check
    // would still have its old height
    parts.forEach(function (el) { el.style.transition = "none"; });
    var fits = 0.75, fails = 1;
    zoom(fits);
    if (overflows(slide)) {
      parts.forEach(function (el) { el.style.removeProperty("zoom"); });
    } else {
      for (var i = 0; i < 6; i += 1) {
        var mid = (fits + fails) / 2;
        zoom(mid);
        if (overflows(slide)) fails = mid; else fits = mid;
      }
      zoom(fits);
    }
    parts.forEach(function (el) { el.style.removeProperty("transition"); });
  }

  function leaves() {
    return Array.prototype.filter.call(document.querySelectorAll(".reveal .slides section"),
      function (s) { return !s.querySelector("section"); });
  }

  /* Run work(slide) on every leaf slide, shown while it runs: Reveal hides the slides away from the
     current one (display: none), which then have no height. */
  function eachShown(work) {
    var total = 0;
    leaves().forEach(function (slide) {
      if (slide.parentNode.tagName !== "SECTION") {  // a slide with no vertical stack gets one
        var stack = document.createElement("section");
        slide.parentNode.insertBefore(stack, slide);
        stack.appendChild(slide);
      }
      var shown = [slide, slide.parentNode];
      var saved = shown.map(function (el) { return el.style.display; });
      shown.forEach(function (el) { el.style.display = "block"; });
      total += work(slide) || 0;
      shown.forEach(function (el, i) { el.style.display = saved[i]; });
    });
    return total;
  }

  /* Cut every slide of the deck that is taller than the deck's height, then fit what is still too
     tall; returns the number of slides added. */
  function paginate() {
    var added = eachShown(function (slide) { return cut(slide) - 1; });
    eachShown(fit);
    return added;
  }

  function mathTypeset() {
    if (typeof DecompressionStream !== "function") return Promise.resolve();  // no MathJax here
    return new Promise(function (resolve) {
      if (window.lessonsMathReady) { resolve(); return; }
      document.addEventListener("lessons-math-ready", resolve, { once: true });
      setTimeout(resolve, 20000);  // MathJax failed to start: cut the deck as it is
    });
  }

  function pageLoaded() {
    return new Promise(function (resolve) {
      if (document.readyState === "complete") resolve();
      else window.addEventListener("load", resolve, { once: true });
    });
  }

  /* Called once Reveal is initialized: cut the deck, then go to the slide the URL names. */
  window.lessonsPaginate = function (Reveal) {
    var moved = false;  // the reader moved before the cut: stay where they are
    Reveal.on("slidechanged", function () { moved = true; });
    return Promise.all([mathTypeset(), pageLoaded()]).then(function () {
      var current = Reveal.getCurrentSlide(), fragment = Reveal.getIndices().f;
      var added = paginate();
      Reveal.sync();  // keeps the old indices, which may now name another slide
      if (moved) {
        var at = Reveal.getIndices(current);
        Reveal.slide(at.h, at.v, fragment === undefined ? -1 : fragment);
      } else if (ASKED_FOR) {  // its fragments hidden unless the address names one
        Reveal.slide(Number(ASKED_FOR[1]), Number(ASKED_FOR[2] || 0),
                     ASKED_FOR[3] === undefined ? -1 : Number(ASKED_FOR[3]));
      }
      document.documentElement.dataset.lessonsPaginated = String(added);
      return added;
    });
  };
})();
