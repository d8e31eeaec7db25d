"use strict";
(function () {
  const packet = JSON.parse(document.getElementById("packet").textContent);
  const COLUMNS = ["participant", "trial", "clip", "question", "options", "choice", "rt_ms", "attention"];
  const LETTERS = "ABCDEFGHI";
  const decoder = new TextDecoder();
  const decodeName = (b64) => decoder.decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
  const trials = packet.trials.map((t) => ({
    trial: t.trial, clip: t.clip, attention: t.attention,
    options: t.options.map((o) => ({ name: decodeName(o.name), src: o.src })),
  }));
  const questions = packet.questions;
  const storageKey = "void-eval-study:" + packet.study + ":" + packet.participant;
  const state = { index: 0, answers: {}, active: 0, started: false };
  let trialStart = performance.now();
  let videos = [];
  let playing = false;

  const $ = (id) => document.getElementById(id);

  function save() {
    try { localStorage.setItem(storageKey, JSON.stringify({ index: state.index, answers: state.answers })); }
    catch (err) { /* private mode: answers stay in memory only */ }
  }
  function restore() {
    try {
      const saved = JSON.parse(localStorage.getItem(storageKey) || "null");
      if (saved && saved.answers) { state.answers = saved.answers; state.index = Math.min(saved.index || 0, trials.length - 1); return true; }
    } catch (err) { /* ignore unreadable storage */ }
    return false;
  }

  function answered(trialIndex, key) { return (state.answers[trialIndex] || {})[key]; }
  function complete(trialIndex) { return questions.every((q) => answered(trialIndex, q.key)); }
  function countAnswered() { return trials.filter((_, i) => complete(i)).length; }

  function updateProgress() {
    const done = countAnswered();
    $("progress-text").textContent = "Trial " + (state.index + 1) + " of " + trials.length + " \u00b7 " + done + " complete";
    $("progress-bar").style.width = (100 * done / trials.length) + "%";
    $("download").textContent = "Download responses (" + done + "/" + trials.length + ")";
  }

  // ---- synchronised playback -------------------------------------------------------------------------
  function master() { return videos[0]; }
  function syncTo(time) { videos.forEach((v) => { if (Math.abs(v.currentTime - time) > 0.001) v.currentTime = time; }); }
  function play() {
    if (!videos.length) return;
    syncTo(master().currentTime);
    videos.forEach((v) => { const p = v.play(); if (p && p.catch) p.catch(() => {}); });
    playing = true; $("play").textContent = "Pause";
  }
  function pause() {
    videos.forEach((v) => v.pause());
    if (videos.length) syncTo(master().currentTime);
    playing = false; $("play").textContent = "Play";
  }
  function restart() { if (!videos.length) return; const was = playing; pause(); syncTo(0); if (was) play(); }
  function tick() {
    if (videos.length) {
      const m = master();
      if (playing) {
        for (let i = 1; i < videos.length; i++) {
          const drift = videos[i].currentTime - m.currentTime;
          if (Math.abs(drift) > 0.08) videos[i].currentTime = m.currentTime;
        }
      }
      const duration = m.duration || 0;
      if (duration > 0) $("scrub").value = Math.round(1000 * m.currentTime / duration);
      $("clock").textContent = m.currentTime.toFixed(1) + " s";
    }
    requestAnimationFrame(tick);
  }
  function maxDrift() {
    if (videos.length < 2) return 0;
    const t = master().currentTime;
    return Math.max(...videos.map((v) => Math.abs(v.currentTime - t)));
  }

  // ---- rendering -------------------------------------------------------------------------------------
  function renderTrial() {
    pause();
    const trial = trials[state.index];
    const box = $("videos");
    box.innerHTML = "";
    box.style.setProperty("--cols", String(Math.min(trial.options.length, trial.options.length > 4 ? 4 : trial.options.length)));
    videos = trial.options.map((option, i) => {
      const cell = document.createElement("div");
      cell.className = "cell";
      const video = document.createElement("video");
      video.src = option.src; video.muted = true; video.playsInline = true; video.preload = "auto";
      video.setAttribute("aria-label", "video " + LETTERS[i]);
      const label = document.createElement("div");
      label.className = "label"; label.textContent = LETTERS[i];
      cell.append(video, label); box.append(cell);
      return video;
    });
    master().addEventListener("ended", () => { if (playing) { syncTo(0); play(); } });
    const qbox = $("questions");
    qbox.innerHTML = "";
    questions.forEach((q, qi) => {
      const div = document.createElement("div");
      div.className = "question"; div.dataset.key = q.key;
      const text = document.createElement("div");
      text.className = "text"; text.textContent = (qi + 1) + ". " + q.text;
      const choices = document.createElement("div");
      choices.className = "choices";
      trial.options.forEach((option, oi) => choices.append(choiceButton(qi, LETTERS[oi], option.name, String(oi + 1))));
      if (packet.allow_tie) choices.append(choiceButton(qi, "No preference", "tie", "0"));
      div.append(text, choices);
      div.addEventListener("click", () => { state.active = qi; refresh(); });
      qbox.append(div);
    });
    const firstOpen = questions.findIndex((q) => !answered(state.index, q.key));
    state.active = firstOpen < 0 ? 0 : firstOpen;
    trialStart = performance.now();
    refresh();
    window.scrollTo(0, 0);
  }
  function choiceButton(qi, text, value, key) {
    const button = document.createElement("button");
    button.type = "button"; button.className = "choice"; button.textContent = text + " [" + key + "]";
    button.dataset.value = value; button.dataset.question = String(qi);
    button.addEventListener("click", (event) => { event.stopPropagation(); choose(qi, value); });
    return button;
  }
  function refresh() {
    document.querySelectorAll(".question").forEach((div, qi) => {
      div.classList.toggle("active", qi === state.active);
      const chosen = answered(state.index, questions[qi].key);
      div.querySelectorAll(".choice").forEach((b) => b.setAttribute("aria-pressed", String(!!chosen && b.dataset.value === chosen.choice)));
    });
    $("next").disabled = !complete(state.index);
    $("next").textContent = state.index === trials.length - 1 ? "Finish" : "Next";
    $("prev").disabled = state.index === 0;
    $("hint").textContent = complete(state.index) ? "Press Enter for the next screen" : "Answer every question to continue";
    updateProgress();
  }
  function choose(qi, value) {
    const trialAnswers = state.answers[state.index] || (state.answers[state.index] = {});
    trialAnswers[questions[qi].key] = { choice: value, rt_ms: Math.round(performance.now() - trialStart) };
    const nextOpen = questions.findIndex((q) => !answered(state.index, q.key));
    state.active = nextOpen < 0 ? qi : nextOpen;
    save(); refresh();
  }
  function go(delta) {
    if (delta > 0 && !complete(state.index)) return;
    if (delta > 0 && state.index === trials.length - 1) { finish(); return; }
    const target = state.index + delta;
    if (target < 0 || target >= trials.length) return;
    state.index = target; save(); renderTrial();
  }
  function finish() {
    pause();
    $("trial").classList.add("hidden"); $("done").classList.remove("hidden");
    $("filename").textContent = filename();
    updateProgress();
  }

  // ---- CSV -------------------------------------------------------------------------------------------
  function csvField(value) {
    const text = String(value);
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }
  function csvText() {
    const lines = [COLUMNS.join(",")];
    trials.forEach((trial, i) => {
      questions.forEach((q) => {
        const answer = answered(i, q.key);
        if (!answer) return;
        const names = trial.options.map((o) => o.name);
        lines.push([packet.participant, trial.trial, trial.clip, q.key, names.join("|"), answer.choice, answer.rt_ms,
                    trial.attention ? "true" : "false"].map(csvField).join(","));
      });
    });
    return lines.join("\n") + "\n";
  }
  function filename() { return "responses_" + packet.participant + ".csv"; }
  function download() {
    const blob = new Blob([csvText()], { type: "text/csv" });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob); link.download = filename();
    document.body.append(link); link.click(); link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  // ---- keyboard --------------------------------------------------------------------------------------
  document.addEventListener("keydown", (event) => {
    if (event.target && event.target.tagName === "SELECT") return;
    if (!state.started) { if (event.key === "Enter" || event.key === " ") { event.preventDefault(); start(); } return; }
    if ($("trial").classList.contains("hidden")) return;
    const trial = trials[state.index];
    const key = event.key.toLowerCase();
    if (key === " ") { event.preventDefault(); playing ? pause() : play(); }
    else if (key === "r") restart();
    else if ((key === "0" || key === "t") && packet.allow_tie) choose(state.active, "tie");
    else if (/^[1-9]$/.test(key) && Number(key) <= trial.options.length) choose(state.active, trial.options[Number(key) - 1].name);
    else if (key === "arrowdown") { event.preventDefault(); state.active = Math.min(questions.length - 1, state.active + 1); refresh(); }
    else if (key === "arrowup") { event.preventDefault(); state.active = Math.max(0, state.active - 1); refresh(); }
    else if (key === "enter" || key === "n") { event.preventDefault(); go(1); }
    else if (key === "p") go(-1);
  });

  function start() {
    state.started = true;
    $("intro").classList.add("hidden"); $("trial").classList.remove("hidden");
    renderTrial();
  }
  $("start").addEventListener("click", start);
  $("play").addEventListener("click", () => (playing ? pause() : play()));
  $("restart").addEventListener("click", restart);
  $("scrub").addEventListener("input", (event) => {
    if (!videos.length) return;
    const duration = master().duration || 0;
    syncTo(duration * Number(event.target.value) / 1000);
  });
  $("speed").addEventListener("change", (event) => videos.forEach((v) => { v.playbackRate = Number(event.target.value); }));
  $("prev").addEventListener("click", () => go(-1));
  $("next").addEventListener("click", () => go(1));
  $("download").addEventListener("click", download);
  $("download-final").addEventListener("click", download);
  $("review").addEventListener("click", () => { $("done").classList.add("hidden"); $("trial").classList.remove("hidden"); state.index = 0; renderTrial(); });

  if (!packet.allow_tie) $("tie-key").classList.add("hidden");
  restore();
  updateProgress();
  requestAnimationFrame(tick);
  // read-only hooks for automated checks of the page
  window.studyPage = { csvText, maxDrift, play, pause, state, trials: () => trials.length, videoCount: () => videos.length };
})();
