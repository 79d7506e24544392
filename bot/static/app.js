/* Asistente BPGE — the question page.
 *
 * Plain JavaScript, no dependencies. Every piece of data from the server is written with
 * textContent / createElement, never innerHTML, so no passage text can inject markup.
 */
"use strict";

(function () {
  // Mirrors indexer.models.SECTION_LABELS (a test keeps them in step).
  const SECTION_LABELS = {
    problem: "Problema",
    objectives: "Objetivos",
    strategies: "Estrategias",
    results: "Resultados",
    lessons: "Lecciones aprendidas",
    contacts: "Contactos",
    gallery: "Galería",
    expert_key_aspects: "Aspecto clave (experto)",
    expert_opportunities: "Oportunidades de mejora (experto)",
    expert_recommendations: "Recomendaciones del experto",
    event: "Intercambio",
    other: "Texto",
  };

  const MESSAGES = {
    loading: "Buscando en el corpus…",
    writing: "Redactando la respuesta…",
    empty: "Escriba una pregunta.",
    network: "No se pudo conectar con el servidor. Revise su conexión e intente de nuevo.",
    interrupted: "La respuesta se interrumpió antes de terminar. Intente de nuevo.",
    unavailable: "El servicio no está disponible en este momento; intente de nuevo en unos minutos.",
    failed: "Ocurrió un error inesperado al responder; intente de nuevo.",
    generated: "Respuesta redactada a partir de las fuentes citadas; cada afirmación se verificó contra sus pasajes.",
    extractive: "Respuesta compuesta con frases tomadas de las fuentes citadas.",
    abstained: "Sin respuesta en el corpus",
    sources: (n) => (n === 1 ? "1 fuente" : n + " fuentes"),
  };

  const $ = (id) => document.getElementById(id);
  const form = $("ask-form");
  const question = $("question");
  const askButton = $("ask-button");
  const region = $("region");
  const section = $("section");
  const result = $("result");
  const statusBox = $("status");
  const errorBox = $("error");
  const answerBox = $("answer");
  const sourcesBlock = $("sources-block");
  const sourcesList = $("sources");
  const panel = $("passage");

  let streamAvailable = true; // becomes false once /api/ask/stream answers 404/405
  let current = null; // AbortController of the request in flight
  let sources = new Map(); // n -> source of the answer on screen
  let lastOpener = null; // the button that opened the passage panel

  // ------------------------------------------------------------ helpers

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "className") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function sectionLabel(code) {
    return SECTION_LABELS[code] || code || "";
  }

  function locationLabel(source) {
    if (source.page) return "página " + source.page;
    if (source.slide) return "diapositiva " + source.slide;
    return linesLabel(source.lines);
  }

  function linesLabel(lines) {
    if (!Array.isArray(lines) || lines.length < 2) return "";
    return lines[0] === lines[1] ? "línea " + lines[0] : "líneas " + lines[0] + "–" + lines[1];
  }

  /** "DRE Ayacucho, UGEL Cangallo, otras 9 oficinas (Ayacucho)", as the server names practices. */
  function whereLabel(source) {
    let offices = source.offices || [];
    if (offices.length > 3) offices = [offices[0], offices[1], "otras " + (offices.length - 2) + " oficinas"];
    let where = offices.join(", ");
    const reg = source.region || "";
    if (reg && !where.toLowerCase().includes(reg.toLowerCase())) where = where ? where + " (" + reg + ")" : reg;
    return where;
  }

  function practiceHref(source) {
    const params = new URLSearchParams();
    if (source.document) params.set("doc", source.document);
    if (Array.isArray(source.lines)) params.set("lineas", source.lines[0] + "-" + source.lines[1]);
    return "/practicas/" + encodeURIComponent(source.practice_id) + "?" + params.toString() + "#citado";
  }

  function excerpt(text, max) {
    const flat = String(text || "").replace(/\s+/g, " ").trim();
    if (flat.length <= max) return flat;
    const cut = flat.slice(0, max);
    const space = cut.lastIndexOf(" ");
    return (space > max * 0.6 ? cut.slice(0, space) : cut) + "…";
  }

  function errorDetail(body, status) {
    const detail = body && body.detail;
    if (typeof detail === "string" && detail.trim()) return detail;
    if (Array.isArray(detail)) {
      const msgs = detail.map((d) => (d && d.msg ? String(d.msg) : "")).filter(Boolean);
      if (msgs.length) return msgs.join(" ");
    }
    if (status === 503) return MESSAGES.unavailable;
    return MESSAGES.failed + " (código " + status + ")";
  }

  class HttpError extends Error {}

  async function readError(response) {
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      /* not JSON */
    }
    return new HttpError(errorDetail(body, response.status));
  }

  // ------------------------------------------------------------ states

  function setLoading(loading, message) {
    askButton.disabled = loading;
    askButton.textContent = loading ? "Buscando…" : "Preguntar";
    answerBox.setAttribute("aria-busy", loading ? "true" : "false");
    statusBox.textContent = loading ? message || MESSAGES.loading : "";
    statusBox.classList.toggle("loading", loading);
    if (loading) result.dataset.state = "loading";
  }

  function reset() {
    result.hidden = false;
    errorBox.hidden = true;
    errorBox.textContent = "";
    answerBox.replaceChildren();
    answerBox.className = "answer";
    sourcesBlock.hidden = true;
    sourcesList.replaceChildren();
    sources = new Map();
    closePassage(false);
  }

  function showError(message) {
    result.hidden = false;
    setLoading(false);
    answerBox.replaceChildren();
    answerBox.className = "answer";
    errorBox.textContent = message;
    errorBox.hidden = false;
    result.dataset.state = "error";
  }

  // ------------------------------------------------------------ answer

  /** One paragraph's text with every [n] (or [n, m]) turned into citation buttons. */
  function paragraphWithCitations(text) {
    const p = el("p");
    const pattern = /\[(\d+(?:\s*[,;]\s*\d+)*)\]/g;
    let last = 0;
    let match;
    while ((match = pattern.exec(text)) !== null) {
      const numbers = match[1].split(/\s*[,;]\s*/).map(Number);
      if (!numbers.every((n) => sources.has(n))) continue; // not a citation of ours: leave as text
      p.append(document.createTextNode(text.slice(last, match.index)));
      const group = el("span", { className: "cites" });
      for (const n of numbers) {
        const s = sources.get(n);
        group.append(
          el("button", {
            type: "button",
            className: "cite",
            "data-n": n,
            "aria-controls": "passage",
            "aria-expanded": "false",
            "aria-label": "Fuente " + n + ": " + s.practice,
            title: s.practice + " — " + sectionLabel(s.section),
            text: String(n),
            onclick: (event) => openPassage(n, event.currentTarget),
          })
        );
      }
      p.append(group);
      last = match.index + match[0].length;
    }
    p.append(document.createTextNode(text.slice(last)));
    return p;
  }

  function renderAnswer(data) {
    sources = new Map((data.sources || []).map((s) => [s.n, s]));
    answerBox.replaceChildren();
    answerBox.className = "answer" + (data.abstained ? " abstained" : "");
    if (data.abstained) {
      answerBox.append(el("p", { className: "note-title", text: MESSAGES.abstained }));
    }
    const paragraphs = String(data.answer || "")
      .split(/\n\s*\n/)
      .map((p) => p.trim())
      .filter(Boolean);
    for (const paragraph of paragraphs) answerBox.append(paragraphWithCitations(paragraph));
    if (!data.abstained) {
      answerBox.append(
        el("p", { className: "mode", text: data.mode === "generated" ? MESSAGES.generated : MESSAGES.extractive })
      );
    }
    renderSources(data.sources || []);
    result.dataset.state = "done";
  }

  function renderSources(list) {
    sourcesList.replaceChildren();
    sourcesBlock.hidden = list.length === 0;
    $("sources-title").textContent = "Fuentes (" + MESSAGES.sources(list.length) + ")";
    for (const s of list) {
      const meta = [whereLabel(s), sectionLabel(s.section), [s.document_title || s.document, locationLabel(s)].filter(Boolean).join(", ")]
        .filter(Boolean)
        .join(" · ");
      sourcesList.append(
        el(
          "li",
          { id: "fuente-" + s.n, value: s.n, className: "source" },
          el("p", { className: "source-title" }, el("span", { className: "source-n", text: "[" + s.n + "]" }), " ", s.practice),
          el("p", { className: "source-meta", text: meta }),
          el("p", { className: "source-excerpt", text: excerpt(s.text, 240) }),
          el(
            "p",
            { className: "source-actions" },
            el("button", {
              type: "button",
              className: "link-button",
              "aria-controls": "passage",
              text: "Ver pasaje",
              onclick: (event) => openPassage(s.n, event.currentTarget),
            }),
            el(
              "a",
              { className: "ficha", href: practiceHref(s) },
              "Ver ficha",
              el("span", { className: "visually-hidden", text: " de «" + s.practice + "»" })
            )
          )
        )
      );
    }
  }

  function renderStreaming(text) {
    let p = answerBox.querySelector("p.streaming");
    if (!p) {
      answerBox.replaceChildren();
      p = el("p", { className: "streaming" });
      answerBox.append(p);
    }
    p.textContent = text;
  }

  // ------------------------------------------------------------ passage panel

  function openPassage(n, opener) {
    const s = sources.get(n);
    if (!s) return;
    lastOpener = opener || null;
    for (const b of document.querySelectorAll(".cite[aria-expanded='true']")) b.setAttribute("aria-expanded", "false");
    for (const b of document.querySelectorAll(".cite[data-n='" + n + "']")) b.setAttribute("aria-expanded", "true");
    $("passage-title").textContent = "Fuente " + n;
    $("passage-practice").textContent = s.practice;
    $("passage-where").textContent = whereLabel(s) || "—";
    $("passage-section").textContent = sectionLabel(s.section);
    $("passage-document").textContent = [s.document_title || s.document, locationLabel(s)].filter(Boolean).join(", ");
    const quote = $("passage-text");
    quote.replaceChildren();
    for (const block of String(s.text || "").split(/\n\s*\n/)) {
      if (block.trim()) quote.append(el("p", { text: block.trim() }));
    }
    $("passage-link").href = practiceHref(s);
    panel.hidden = false;
    document.body.classList.add("passage-open");
    panel.focus({ preventScroll: window.matchMedia("(min-width: 60rem)").matches });
  }

  function closePassage(restoreFocus) {
    if (panel.hidden) return;
    panel.hidden = true;
    document.body.classList.remove("passage-open");
    for (const b of document.querySelectorAll(".cite[aria-expanded='true']")) b.setAttribute("aria-expanded", "false");
    if (restoreFocus && lastOpener && document.contains(lastOpener)) lastOpener.focus();
    lastOpener = null;
  }

  $("passage-close").addEventListener("click", () => closePassage(true));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) closePassage(true);
  });

  // ------------------------------------------------------------ requests

  function requestBody(text) {
    const body = { question: text };
    const filters = {};
    if (region.value) filters.region = region.value;
    if (section.value) filters.section = section.value;
    if (Object.keys(filters).length) body.filters = filters;
    return JSON.stringify(body);
  }

  async function postJson(url, body, signal) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
      body,
      signal,
    });
  }

  /** Reads a text/event-stream body; calls onEvent(name, data) for each event. */
  async function readEvents(response, onEvent) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    const flush = (block) => {
      let name = "message";
      const data = [];
      for (const line of block.split(/\r?\n/)) {
        if (!line || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        let value = colon === -1 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "event") name = value;
        else if (field === "data") data.push(value);
      }
      if (data.length) onEvent(name, data.join("\n"));
    };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let boundary;
      while ((boundary = buffer.search(/\r?\n\r?\n/)) !== -1) {
        const block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary).replace(/^\r?\n\r?\n/, "");
        flush(block);
      }
    }
    buffer += decoder.decode();
    if (buffer.trim()) flush(buffer);
  }

  async function askStream(body, signal) {
    const response = await postJson("/api/ask/stream", body, signal);
    if (response.status === 404 || response.status === 405) {
      streamAvailable = false;
      return null; // no streaming endpoint: the caller falls back
    }
    if (!response.ok) throw await readError(response);
    const type = response.headers.get("Content-Type") || "";
    if (!type.includes("text/event-stream")) return response.json();
    let final = null;
    let written = "";
    await readEvents(response, (name, data) => {
      let payload;
      try {
        payload = JSON.parse(data);
      } catch (_) {
        return;
      }
      if (name === "delta" && payload && typeof payload.text === "string") {
        written += payload.text;
        statusBox.textContent = MESSAGES.writing;
        renderStreaming(written);
      } else if (name === "answer") {
        final = payload;
      } else if (name === "error") {
        throw new HttpError(errorDetail(payload, 500));
      }
    });
    if (!final) throw new HttpError(MESSAGES.interrupted);
    return final;
  }

  async function askPlain(body, signal) {
    const response = await postJson("/api/ask", body, signal);
    if (!response.ok) throw await readError(response);
    return response.json();
  }

  async function ask(text) {
    text = (text || "").trim();
    if (!text) {
      reset();
      showError(MESSAGES.empty);
      question.focus();
      return;
    }
    if (current) current.abort();
    const controller = new AbortController();
    current = controller;
    reset();
    setLoading(true);
    rememberInUrl(text);
    if (result.getBoundingClientRect().top > window.innerHeight * 0.75) {
      const smooth = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      result.scrollIntoView({ block: "start", behavior: smooth ? "smooth" : "auto" });
    }
    const body = requestBody(text);
    try {
      let data = streamAvailable ? await askStream(body, controller.signal) : null;
      if (data === null) data = await askPlain(body, controller.signal);
      if (current !== controller) return;
      setLoading(false);
      renderAnswer(data);
      statusBox.textContent = data.abstained ? MESSAGES.abstained + "." : "Respuesta lista. " + MESSAGES.sources((data.sources || []).length) + ".";
    } catch (err) {
      if (controller.signal.aborted || current !== controller) return;
      showError(err instanceof HttpError ? err.message : MESSAGES.network);
    } finally {
      if (current === controller) {
        current = null;
        setLoading(false);
      }
    }
  }

  // ------------------------------------------------------------ URL, regions, events

  function rememberInUrl(text) {
    const params = new URLSearchParams();
    params.set("q", text);
    if (region.value) params.set("region", region.value);
    if (section.value) params.set("seccion", section.value);
    history.replaceState(null, "", "?" + params.toString());
  }

  async function loadRegions(selected) {
    try {
      const response = await fetch("/api/regions", { headers: { Accept: "application/json" } });
      if (!response.ok) throw await readError(response);
      const data = await response.json();
      for (const item of data.regions || []) {
        const count = (item.practices || []).length;
        region.append(
          el("option", {
            value: item.region,
            text: item.region,
            title: count === 1 ? "1 práctica" : count + " prácticas",
          })
        );
      }
      if (selected) region.value = selected;
      region.dataset.loaded = "true";
    } catch (err) {
      if (err instanceof HttpError) {
        result.hidden = false;
        errorBox.textContent = err.message;
        errorBox.hidden = false;
      }
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ask(question.value);
  });

  question.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  for (const chip of document.querySelectorAll(".chip[data-question]")) {
    chip.addEventListener("click", () => {
      question.value = chip.dataset.question;
      form.requestSubmit();
    });
  }

  const params = new URLSearchParams(location.search);
  if (params.get("seccion")) section.value = params.get("seccion");
  loadRegions(params.get("region")).then(() => {
    const q = params.get("q");
    if (q) {
      question.value = q;
      ask(q);
    }
  });
})();
