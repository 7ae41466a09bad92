/// The page at `/`: plain HTML, CSS and JavaScript, no build step. It reads `/v1/models` and
/// shows a panel per task that has a model loaded (classify, generate, tag, translate) and a
/// card per model. Generation streams: the page reads the server-sent events from `fetch`.
/// `scripts/browser_test.py` drives it in headless Chromium.
enum WebPage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rnn serve</title>
<style>
  :root { --ink: #1d2430; --muted: #5b6577; --line: #d9dee7; --accent: #2f6fde; --pos: #1f8a4c; --neg: #c2412d; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: #f5f7fa; }
  header { padding: 18px 28px; background: #fff; border-bottom: 1px solid var(--line); }
  header h1 { margin: 0; font-size: 20px; }
  header p { margin: 2px 0 0; color: var(--muted); }
  main { display: grid; grid-template-columns: repeat(auto-fit, minmax(360px, 1fr)); gap: 18px; padding: 20px 28px; }
  section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 18px; }
  section h2 { margin: 0 0 8px; font-size: 16px; }
  textarea, input { width: 100%; font: inherit; padding: 8px; border: 1px solid var(--line); border-radius: 6px; }
  textarea { min-height: 90px; resize: vertical; }
  button { margin-top: 8px; font: inherit; padding: 6px 14px; border: 0; border-radius: 6px; background: var(--accent); color: #fff; cursor: pointer; }
  button:disabled { opacity: .5; cursor: default; }
  select { font: inherit; padding: 4px; margin-left: 6px; }
  .result { margin-top: 10px; min-height: 24px; white-space: pre-wrap; }
  .bar { height: 10px; background: #eceff4; border-radius: 5px; overflow: hidden; margin-top: 6px; }
  .bar > div { height: 100%; background: var(--accent); }
  .label-pos { color: var(--pos); font-weight: 600; } .label-neg { color: var(--neg); font-weight: 600; }
  .joke { padding: 6px 0; border-bottom: 1px dashed var(--line); }
  .tag { display: inline-block; margin: 2px 4px 2px 0; padding: 1px 6px; border-radius: 4px; background: #eef3fd; }
  .tag small { color: var(--muted); margin-left: 3px; }
  .error { color: var(--neg); }
  .muted { color: var(--muted); }
  .card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; margin-bottom: 8px; }
  .card h3 { margin: 0; font-size: 15px; }
  .card dl { display: grid; grid-template-columns: max-content 1fr; gap: 0 10px; margin: 6px 0 0; font-size: 13px; }
  .card dt { color: var(--muted); }
  .card dd { margin: 0; }
</style>
</head>
<body>
<header><h1>rnn serve</h1><p>Recurrent networks trained with swift-rnn, answering over HTTP. API: <a href="/openapi.yaml">openapi.yaml</a></p></header>
<main>
  <section id="classify" hidden>
    <h2>Sentiment <select id="classify-model"></select></h2>
    <textarea id="review" placeholder="Type a movie review">One of the best films I have seen in years: a moving story, superb acting and a score I still hum.</textarea>
    <button id="classify-go">Classify</button>
    <div class="result" id="classify-result"></div>
  </section>
  <section id="generate" hidden>
    <h2>Jokes <select id="generate-model"></select></h2>
    <input id="prompt" value="what do you" placeholder="Three words to start with">
    <button id="generate-go">Write three jokes</button>
    <div class="result" id="generate-result"></div>
  </section>
  <section id="tag" hidden>
    <h2>Tagging <select id="tag-model"></select></h2>
    <input id="sentence" value="The quick brown fox jumps over the lazy dog .">
    <button id="tag-go">Tag</button>
    <div class="result" id="tag-result"></div>
  </section>
  <section id="translate" hidden>
    <h2>Translation <select id="translate-model"></select></h2>
    <input id="source" value="Ein Hund rennt über die Wiese.">
    <button id="translate-go">Translate</button>
    <div class="result" id="translate-result"></div>
  </section>
  <section id="cards"><h2>Models</h2><div id="card-list" class="muted">loading…</div></section>
</main>
<script>
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
const panels = {classify: "classify", lm: "generate", tag: "tag", translate: "translate"};

async function post(path, body) {
  const response = await fetch(path, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  const json = await response.json();
  if (!response.ok) throw new Error(json.error ? json.error.message : response.statusText);
  return json;
}
function fail(target, error) { target.innerHTML = '<span class="error">' + esc(error.message) + "</span>"; }

async function loadModels() {
  const {models} = await (await fetch("/v1/models")).json();
  $("card-list").classList.remove("muted");
  $("card-list").innerHTML = models.length ? "" : "no models loaded";
  for (const model of models) {
    const panel = panels[model.task];
    if (panel) {
      $(panel).hidden = false;
      $(panel + "-model").add(new Option(model.name, model.name));
    }
    const metrics = Object.entries(model.metrics).map(([k, v]) => k + " " + (Math.abs(v) < 10 ? v.toFixed(4) : v.toFixed(1))).join(", ");
    const config = model.config || {};
    const recurrent = config.recurrent || (config.network && config.network.recurrent) || {};
    const shape = recurrent.cell ? recurrent.cell + " " + (recurrent.layers || 1) + "×" + recurrent.hiddenSize + (recurrent.bidirectional ? " bidirectional" : "") : "";
    const card = document.createElement("div");
    card.className = "card";
    card.innerHTML = "<h3>" + esc(model.name) + ' <span class="muted">(' + esc(model.task) + ")</span></h3><dl>"
      + "<dt>parameters</dt><dd>" + model.parameters.toLocaleString("en") + "</dd>"
      + (shape ? "<dt>network</dt><dd>" + esc(shape) + "</dd>" : "")
      + (model.labels ? "<dt>labels</dt><dd>" + esc(model.labels.slice(0, 20).join(", ")) + "</dd>" : "")
      + (model.training.data ? "<dt>data</dt><dd>" + esc(model.training.data) + "</dd>" : "")
      + (metrics ? "<dt>metrics</dt><dd>" + esc(metrics) + "</dd>" : "")
      + "</dl>";
    $("card-list").appendChild(card);
  }
  if (!models.some((m) => m.task === "translate")) {
    $("translate").hidden = false;
    $("translate-model").hidden = true;
    $("translate-result").innerHTML = '<span class="muted">no translation model loaded</span>';
  }
}

$("classify-go").onclick = async () => {
  const out = $("classify-result");
  out.textContent = "…";
  try {
    const {results: [r]} = await post("/v1/classify", {model: $("classify-model").value, texts: [$("review").value]});
    const cls = /^(pos|positive|1)$/i.test(r.label) ? "label-pos" : /^(neg|negative|0)$/i.test(r.label) ? "label-neg" : "";
    out.innerHTML = '<span class="' + cls + '" id="sentiment">' + esc(r.label) + "</span> with probability <b id=\"probability\">"
      + r.probability.toFixed(3) + '</b><div class="bar"><div style="width:' + (100 * r.probability).toFixed(1) + '%"></div></div>';
  } catch (e) { fail(out, e); }
};

async function streamJoke(body, line) {
  const response = await fetch("/v1/generate", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  if (!response.ok) { const j = await response.json(); throw new Error(j.error.message); }
  const reader = response.body.getReader(), decoder = new TextDecoder();
  let buffer = "", continuation = "";
  const show = () => { line.textContent = (body.prompt + " " + continuation.trimStart()).trim(); };
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, {stream: true});
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end); buffer = buffer.slice(end + 2);
      const name = (event.match(/^event: (.*)$/m) || [])[1], data = JSON.parse((event.match(/^data: (.*)$/m) || [])[1] || "{}");
      if (name === "token") continuation += data.text;
      if (name === "done") continuation = data.text;
      if (name === "error") throw new Error(data.error.message);
      show();
    }
  }
}

$("generate-go").onclick = async () => {
  const out = $("generate-result"), go = $("generate-go");
  out.innerHTML = ""; go.disabled = true;
  const prompt = $("prompt").value.trim().split(/\s+/).slice(0, 3).join(" ");
  try {
    for (let i = 0; i < 3; i++) {
      const line = document.createElement("div");
      line.className = "joke"; out.appendChild(line);
      await streamJoke({model: $("generate-model").value, prompt, max_tokens: 60, temperature: 0.8, top_k: 40,
                        seed: Math.floor(Math.random() * 1e9), stream: true}, line);
    }
  } catch (e) { fail(out, e); }
  go.disabled = false;
};

$("tag-go").onclick = async () => {
  const out = $("tag-result");
  out.textContent = "…";
  try {
    const {results: [r]} = await post("/v1/tag", {model: $("tag-model").value, sentences: [$("sentence").value]});
    out.innerHTML = r.words.map((w, i) => '<span class="tag">' + esc(w) + "<small>" + esc(r.tags[i]) + "</small></span>").join("");
  } catch (e) { fail(out, e); }
};

$("translate-go").onclick = async () => {
  const out = $("translate-result");
  out.textContent = "…";
  try {
    const body = {texts: [$("source").value]};
    if (!$("translate-model").hidden) body.model = $("translate-model").value;
    const {results: [r]} = await post("/v1/translate", body);
    out.textContent = r.translation;
  } catch (e) { fail(out, e); }
};

loadModels().catch((e) => fail($("card-list"), e));
</script>
</body>
</html>
"""#
}
