/* deckkit preview: show the cards a page at a time, filter them (deck, tag, level, type, search),
   night mode, type-in comparison. Plain JavaScript, no libraries, works from file://. The filters
   and the page are kept in the URL's fragment (#type=cloze&q=paris&page=2) so that a filtered
   view can be bookmarked. */
(function () {
  "use strict";
  var PAGE_SIZE = 100; // cards built at a time: the page opens as fast for 100,000 cards as for ten

  // The cards arrive as data (deckkit.preview.data says how it is laid out): an index to filter
  // and search, and each card's sides in chunks, read when a card of theirs is first shown.
  var index = JSON.parse(document.getElementById("dk-index").textContent);
  var cards = index.cards;
  var DECK = 0, DECK_NAME = 1, ID = 2, ORDINAL = 3, TYPE = 4, LEVEL = 5, TAGS = 6, NOTE_TYPE = 7,
    TEMPLATE = 8, TEXT = 9;
  var chunks = [];
  // The chunks before this script are whole; a later one is once the next one has begun, or
  // when the whole document has been read.
  var wholeAtStart = document.querySelectorAll("script[type='application/json'][id^='dk-sides-']").length;
  function chunkIsWhole(number) {
    return number < wholeAtStart || document.readyState !== "loading" ||
      document.getElementById("dk-sides-" + (number + 1)) !== null;
  }
  function sidesOf(n) {
    var number = Math.floor(n / index.chunk);
    if (!chunks[number]) {
      if (!chunkIsWhole(number)) return null;
      chunks[number] = JSON.parse(document.getElementById("dk-sides-" + number).textContent);
    }
    var row = chunks[number][n % index.chunk];
    return [row[0], row[0].slice(0, row[1]) + row[2]];
  }

  var controls = {
    deck: document.getElementById("dk-deck"),
    tag: document.getElementById("dk-tag"),
    level: document.getElementById("dk-level"),
    type: document.getElementById("dk-type"),
    q: document.getElementById("dk-search")
  };
  var night = document.getElementById("dk-night");
  var count = document.getElementById("dk-count");
  var empty = document.getElementById("dk-empty");
  var grid = document.getElementById("dk-grid");
  var pager = {
    nav: document.getElementById("dk-pager"),
    prev: document.getElementById("dk-prev"),
    next: document.getElementById("dk-next"),
    number: document.getElementById("dk-page"),
    pages: document.getElementById("dk-pages")
  };
  var shown = []; // the positions of the cards that pass the filters
  var page = 1;

  function typeLabel(type) { return type.replace(/_/g, " "); }

  // What the search looks in: the words of both sides (in lower case in the index), and what the
  // card's header shows, its tables' words put in lower case at the first search.
  var lower = null;
  function lowerCase(table, label) {
    return index[table].map(function (value) { return (label ? label(value) : value).toLowerCase(); });
  }
  function hasTerm(card, term) {
    if (card[TEXT].indexOf(term) >= 0 || lower.deckNames[card[DECK_NAME]].indexOf(term) >= 0 ||
        lower.types[card[TYPE]].indexOf(term) >= 0 ||
        (card[LEVEL] >= 0 && lower.levels[card[LEVEL]].indexOf(term) >= 0) ||
        (card[ID] + " \u00b7 " + card[TEMPLATE]).toLowerCase().indexOf(term) >= 0) {
      return true;
    }
    for (var t = 0; t < card[TAGS].length; t++) {
      if (lower.tags[card[TAGS][t]].indexOf(term) >= 0) return true;
    }
    return false;
  }

  function position(table, value) {
    return value ? index[table].indexOf(value) : -1;
  }

  function hasEvery(card, terms) {
    for (var t = 0; t < terms.length; t++) if (!hasTerm(card, terms[t])) return false;
    return true;
  }

  function filter() {
    var terms = controls.q.value.toLowerCase().split(/\s+/).filter(Boolean);
    if (terms.length && !lower) {
      lower = {deckNames: lowerCase("deckNames"), types: lowerCase("types", typeLabel),
        levels: lowerCase("levels"), tags: lowerCase("tags")};
    }
    var deck = position("decks", controls.deck.value), tag = position("tags", controls.tag.value),
      level = position("levels", controls.level.value), type = position("types", controls.type.value);
    shown = [];
    for (var n = 0; n < cards.length; n++) {
      var card = cards[n];
      if ((deck < 0 || card[DECK] === deck) &&
          (tag < 0 || card[TAGS].indexOf(tag) >= 0) &&
          (level < 0 || card[LEVEL] === level) &&
          (type < 0 || card[TYPE] === type) &&
          hasEvery(card, terms)) {
        shown.push(n);
      }
    }
  }

  function element(tag, className, text) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  // A side's HTML, already rebuilt by deckkit from an allow-list (no script, no handler, only the
  // page's own media), is read in an inert <template> and moved into its card.
  function fillSide(box, html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    // A player read inside a <template> belongs to its inert document, where Chromium may reject
    // its file:// source ("URL safety check") after it has been moved here: load() starts it again
    // in this document and drops what the first attempt had queued.
    var players = template.content.querySelectorAll("audio, video");
    box.appendChild(template.content);
    for (var p = 0; p < players.length; p++) players[p].load();
  }

  function article(n) {
    var card = cards[n];
    var el = element("article", "dk-card");
    var level = card[LEVEL] < 0 ? "" : index.levels[card[LEVEL]];
    var tags = card[TAGS].map(function (t) { return index.tags[t]; });
    el.setAttribute("data-deck", index.decks[card[DECK]]);
    el.setAttribute("data-card", card[ID]);
    el.setAttribute("data-ordinal", String(card[ORDINAL]));
    el.setAttribute("data-type", index.types[card[TYPE]]);
    el.setAttribute("data-level", level);
    el.setAttribute("data-tags", tags.join(" "));
    if (card[NOTE_TYPE] >= 0) el.setAttribute("data-note-type", index.noteTypes[card[NOTE_TYPE]]);
    var meta = element("header", "dk-meta");
    var deckName = element("span", "dk-deck", index.deckNames[card[DECK_NAME]]);
    deckName.title = "deck";
    meta.appendChild(deckName);
    meta.appendChild(element("span", "dk-pill dk-type", typeLabel(index.types[card[TYPE]])));
    if (level) meta.appendChild(element("span", "dk-pill dk-level dk-level-" + level, level));
    var id = element("span", "dk-id", card[ID] + (card[TEMPLATE] ? " \u00b7 " + card[TEMPLATE] : ""));
    id.title = "card id";
    meta.appendChild(id);
    if (tags.length) {
      var list = element("ul", "dk-tags");
      tags.forEach(function (tag) { list.appendChild(element("li", "", tag)); });
      meta.appendChild(list);
    }
    el.appendChild(meta);
    var sides = sidesOf(n);
    if (!sides) el.setAttribute("data-pending", "");
    [["dk-front", "Front"], ["dk-back", "Back"]].forEach(function (side, which) {
      var section = element("section", "dk-side " + side[0]);
      section.appendChild(element("h2", "", side[1]));
      var box = element("div", "card card" + card[ORDINAL]);
      if (sides) fillSide(box, sides[which]);
      else box.appendChild(element("p", "dk-loading", "loading\u2026"));
      section.appendChild(box);
      el.appendChild(section);
    });
    return el;
  }

  function pages() { return Math.max(1, Math.ceil(shown.length / PAGE_SIZE)); }

  function render() {
    page = Math.min(Math.max(1, page), pages());
    var first = (page - 1) * PAGE_SIZE;
    var fragment = document.createDocumentFragment();
    shown.slice(first, first + PAGE_SIZE).forEach(function (n) { fragment.appendChild(article(n)); });
    grid.textContent = "";
    grid.appendChild(fragment);
    count.textContent = shown.length + " of " + cards.length + " cards";
    empty.hidden = shown.length > 0;
    pager.nav.hidden = pages() === 1;
    pager.number.max = String(pages());
    pager.number.value = String(page);
    pager.pages.textContent = "of " + pages() + " (cards " + (shown.length ? first + 1 : 0) + "\u2013" +
      Math.min(first + PAGE_SIZE, shown.length) + ")";
    pager.prev.disabled = page === 1;
    pager.next.disabled = page === pages();
    if (grid.querySelector(".dk-card[data-pending]")) waitForSides();
  }

  // Cards shown before the browser has read their sides get them as soon as it has.
  var waiting = false;
  function waitForSides() {
    if (waiting) return;
    waiting = true;
    setTimeout(function () {
      waiting = false;
      var pending = grid.querySelectorAll(".dk-card[data-pending]");
      for (var i = 0; i < pending.length; i++) {
        var n = shown[(page - 1) * PAGE_SIZE + Array.prototype.indexOf.call(grid.children, pending[i])];
        if (sidesOf(n)) grid.replaceChild(article(n), pending[i]);
      }
      if (grid.querySelector(".dk-card[data-pending]")) waitForSides();
    }, 50);
  }

  function apply() {
    filter();
    render();
  }

  function setNight(on) {
    night.checked = on;
    document.body.classList.toggle("nightMode", on);
    document.body.classList.toggle("night_mode", on);
  }

  function readFragment() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ""));
    Object.keys(controls).forEach(function (key) {
      var value = params.get(key) || "";
      var control = controls[key];
      if (control.tagName === "SELECT" &&
          !Array.prototype.some.call(control.options, function (o) { return o.value === value; })) {
        value = "";
      }
      control.value = value;
    });
    setNight(params.get("night") === "1");
    page = parseInt(params.get("page"), 10) || 1;
    apply();
  }

  function writeFragment() {
    var params = new URLSearchParams();
    Object.keys(controls).forEach(function (key) {
      if (controls[key].value) params.set(key, controls[key].value);
    });
    if (page > 1) params.set("page", String(page));
    if (night.checked) params.set("night", "1");
    var fragment = params.toString();
    try {
      history.replaceState(null, "", location.href.split("#")[0] + (fragment ? "#" + fragment : ""));
    } catch (e) {
      /* some browsers refuse history changes on file:// pages; the filters still work */
    }
  }

  Object.keys(controls).forEach(function (key) {
    controls[key].addEventListener(key === "q" ? "input" : "change", function () {
      page = 1;
      apply();
      writeFragment();
    });
  });
  function turnTo(number) {
    page = number;
    render();
    writeFragment();
    window.scrollTo(0, 0);
  }
  pager.prev.addEventListener("click", function () { turnTo(page - 1); });
  pager.next.addEventListener("click", function () { turnTo(page + 1); });
  pager.number.addEventListener("change", function () {
    turnTo(parseInt(pager.number.value, 10) || 1);
  });
  night.addEventListener("change", function () {
    setNight(night.checked);
    writeFragment();
  });
  window.addEventListener("hashchange", readFragment);

  // Links in cards lead nowhere (deckkit keeps only "#..." ones). Anki's "Hint" link shows the
  // hint after it: its own onclick handler is not kept, so the page does what it did.
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest(".dk-side a") : null;
    if (!link) return;
    event.preventDefault();
    var hint = link.nextElementSibling;
    if (link.classList.contains("hint") && hint && hint.classList.contains("hint")) {
      link.style.display = "none";
      hint.style.display = "block";
    }
  });

  // Type-in cards: what is typed on the front is compared on the back, as Anki's reviewer does.
  function escapeHtml(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }
  function spans(pieces) {
    return pieces.map(function (p) {
      return "<span class=" + p[0] + ">" + escapeHtml(p[1]) + "</span>";
    }).join("");
  }
  // Anki's comparison: difflib's matching blocks between what was typed and what was expected;
  // typed text outside them is bad, expected text outside them is missed (a "-" per character
  // stands in for it on the typed line when nothing was typed there).
  function matchingBlocks(a, b) {
    var blocks = [];
    (function recurse(alo, ahi, blo, bhi) {
      var best = [alo, blo, 0], lengths = {};
      for (var i = alo; i < ahi; i++) {
        var next = {};
        for (var j = blo; j < bhi; j++) {
          if (a[i] !== b[j]) continue;
          var k = (lengths[j - 1] || 0) + 1;
          next[j] = k;
          if (k > best[2]) best = [i - k + 1, j - k + 1, k];
        }
        lengths = next;
      }
      if (!best[2]) return;
      recurse(alo, best[0], blo, best[1]);
      blocks.push(best);
      recurse(best[0] + best[2], ahi, best[1] + best[2], bhi);
    })(0, a.length, 0, b.length);
    blocks.push([a.length, b.length, 0]);
    return blocks;
  }
  function compare(expected, typed) {
    if (!typed) return escapeHtml(expected);
    if (typed === expected) return spans([["typeGood", typed]]);
    var a = Array.from(typed), b = Array.from(expected);
    var given = [], wanted = [], i = 0, j = 0;
    matchingBlocks(a, b).forEach(function (block) {
      var bad = a.slice(i, block[0]).join(""), missed = b.slice(j, block[1]).join("");
      if (bad) given.push(["typeBad", bad]);
      else if (missed) given.push(["typeMissed", new Array(b.slice(j, block[1]).length + 1).join("-")]);
      if (missed) wanted.push(["typeMissed", missed]);
      if (block[2]) {
        var same = a.slice(block[0], block[0] + block[2]).join("");
        given.push(["typeGood", same]);
        wanted.push(["typeGood", same]);
      }
      i = block[0] + block[2];
      j = block[1] + block[2];
    });
    return spans(given) + "<br><span id=typearrow>&darr;</span><br>" + spans(wanted);
  }
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.classList || !input.classList.contains("deckkit-typein")) return;
    var card = input.closest(".dk-card");
    var area = card && card.querySelector(".dk-back .deckkit-typeans");
    if (!area) return;
    area.querySelector("code").innerHTML = compare(area.getAttribute("data-expected"), input.value);
  });

  readFragment();
  // For the benchmark (bench/preview.py) and anyone curious: when the first cards were there, and
  // when every card's sides had been read.
  performance.mark("dk-first-cards");
  document.addEventListener("DOMContentLoaded", function () { performance.mark("dk-all-sides"); });
})();
