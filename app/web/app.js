// The caregiver page. Plain JS against the public API: /v1/chat/completions (with the photo as a data: URI),
// /v1/documents/{id}/image for the photo the citations point into. Everything user-written is inserted as text
// (never HTML), because documents can contain anything.
"use strict";

const T = {
  zh: { meds: "我的用药清单", add: "添加", photo: "照片", attach: "📷 拍照/选图", send: "提问", key: "访问密钥",
        placeholder: "例如：这药能和阿司匹林一起吃吗？", medPlaceholder: "药名，如 华法林", other: "English",
        avoid: "不建议合用", caution: "需要注意", no_known_interaction: "未发现相互作用", insufficient_data: "信息不足",
        info: "信息", sources: "来源", fields: "识别出的内容", drugs: "药品", speak: "🔊 朗读", schedule: "服药时间表",
        ics: "导出到日历 (.ics)", asNeeded: "需要时服用", thinking: "正在查询…", error: "出错了：", you: "我",
        photoQuestion: "这是什么药？需要注意什么？", yourPhoto: "您的照片" },
  en: { meds: "My medications", add: "Add", photo: "Photo", attach: "📷 Photo", send: "Ask", key: "API key",
        placeholder: "e.g. Can I take this with aspirin?", medPlaceholder: "Drug name, e.g. warfarin", other: "中文",
        avoid: "Avoid", caution: "Caution", no_known_interaction: "No known interaction", insufficient_data: "Not enough information",
        info: "Information", sources: "Sources", fields: "What was read", drugs: "Drugs", speak: "🔊 Read aloud", schedule: "Dosing schedule",
        ics: "Export to calendar (.ics)", asNeeded: "as needed", thinking: "Checking…", error: "Error: ", you: "Me",
        photoQuestion: "What is this medicine and what should I watch out for?", yourPhoto: "Your photo" },
};
// Names of the fields the OCR pipeline reads from leaflets, boxes and prescriptions; others show their key.
const FIELDS = {
  zh: { drug_name: "药品名称", generic_name: "通用名称", brand_name: "商品名称", english_name: "英文名称", ingredients: "成份",
        description: "性状", indications: "适应症", strength: "规格", dosage: "用法用量", adverse_reactions: "不良反应",
        contraindications: "禁忌", precautions: "注意事项", warnings: "警告", pregnancy: "孕妇及哺乳期用药",
        pediatric_use: "儿童用药", geriatric_use: "老年用药", interactions: "药物相互作用", overdosage: "药物过量",
        storage: "贮藏", shelf_life: "有效期", approval_number: "批准文号", manufacturer: "生产企业", quantity: "数量",
        directions: "用法", hospital: "医院", patient_name: "姓名", sex: "性别", age: "年龄", department: "科别",
        diagnosis: "诊断", doctor: "医师", date: "日期", pharmacy: "药房" },
  en: { drug_name: "Drug name", generic_name: "Generic name", brand_name: "Brand name", english_name: "English name",
        ingredients: "Ingredients", description: "Description", indications: "Uses", strength: "Strength", dosage: "Dosage",
        adverse_reactions: "Side effects", contraindications: "Do not use if", precautions: "Precautions", warnings: "Warnings",
        pregnancy: "Pregnancy and breastfeeding", pediatric_use: "Children", geriatric_use: "Older adults",
        interactions: "Interactions", overdosage: "Overdose", storage: "Storage", shelf_life: "Shelf life",
        approval_number: "Approval number", manufacturer: "Manufacturer", quantity: "Quantity", directions: "Directions",
        hospital: "Hospital", patient_name: "Patient", sex: "Sex", age: "Age", department: "Department",
        diagnosis: "Diagnosis", doctor: "Doctor", date: "Date", pharmacy: "Pharmacy" },
};
const $ = (id) => document.getElementById(id);
const state = {
  lang: localStorage.getItem("rxlens.lang") || ((navigator.language || "zh").toLowerCase().startsWith("zh") ? "zh" : "en"),
  meds: JSON.parse(localStorage.getItem("rxlens.meds") || "[]"),
  conversation: null, file: null, docs: {}, image: null, box: null,
};
const t = (k) => T[state.lang][k] || k;

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  for (const c of children) if (c != null) e.append(c);
  return e;
}

function applyLanguage() {
  document.documentElement.lang = state.lang;
  document.querySelectorAll("[data-t]").forEach((e) => (e.textContent = t(e.dataset.t)));
  document.querySelectorAll("[data-tp]").forEach((e) => (e.placeholder = t(e.dataset.tp)));
  $("lang").textContent = t("other");
}

function renderMeds() {
  localStorage.setItem("rxlens.meds", JSON.stringify(state.meds));
  $("meds").replaceChildren(...state.meds.map((m, i) =>
    el("li", {}, m, el("button", { type: "button", textContent: "×", onclick: () => { state.meds.splice(i, 1); renderMeds(); } }))));
}

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = $("api-key").value.trim() || localStorage.getItem("rxlens.key");
  if (key) { h.Authorization = "Bearer " + key; localStorage.setItem("rxlens.key", key); }
  return h;
}

function readFile(file) {
  return new Promise((ok, fail) => { const r = new FileReader(); r.onload = () => ok(r.result); r.onerror = fail; r.readAsDataURL(file); });
}

async function ask(event) {
  event.preventDefault();
  const question = $("question").value.trim();
  if (!question && !state.file) return;
  // A photo alone asks the page's question in the page's language: from an empty text the server cannot tell.
  const content = [{ type: "text", text: question || t("photoQuestion") }];
  if (state.file) content.push({ type: "image_url", image_url: { url: await readFile(state.file) } });
  $("chat").append(el("div", { className: "msg user" }, el("b", {}, t("you") + "："), question || "📷"));
  const pending = el("div", { className: "msg" }, t("thinking"));
  $("chat").append(pending);
  $("send").disabled = true;
  try {
    const body = { model: "rxlens", messages: [{ role: "user", content }], rxlens: { medications: state.meds } };
    if (state.conversation) body.rxlens.conversation_id = state.conversation;
    const r = await fetch("/v1/chat/completions", { method: "POST", headers: headers(), body: JSON.stringify(body) });
    const data = await r.json();
    if (!r.ok) throw new Error(data.error ? data.error.message : r.statusText);
    state.conversation = data.rxlens.conversation_id;
    pending.replaceWith(renderAnswer(data.choices[0].message.content, data.rxlens));
    for (const d of data.rxlens.documents) state.docs[d.id] = d;
    if (data.rxlens.documents.length) await showDocument(data.rxlens.documents[0]);
    $("question").value = ""; state.file = null; $("file").value = ""; $("file-name").textContent = "";
  } catch (e) {
    pending.textContent = t("error") + e.message;
  } finally {
    $("send").disabled = false;
  }
}

function renderAnswer(text, rx) {
  const badge = el("span", { className: "badge " + rx.verdict, textContent: t(rx.verdict) });
  const speak = el("button", { type: "button", className: "speak", textContent: t("speak"), onclick: () => readAloud(text, rx.language) });
  const list = el("ol", { className: "citations" });
  for (const c of rx.citations) {
    // A source from the user's own photo is named as such (and by its field), in the page's language.
    const source = c.document_id ? [t("yourPhoto"), c.field && fieldLabel(c.field)].filter(Boolean).join(" · ") : c.source;
    const text = c.text.length > 160 ? c.text.slice(0, 160) + "…" : c.text;
    const li = el("li", { value: c.id, textContent: `${source}: ${text}` });
    if (c.document_id && c.bbox) {
      li.classList.add("boxed");
      li.dataset.doc = c.document_id;
      li.onclick = () => {
        document.querySelectorAll(".citations li.active").forEach((x) => x.classList.remove("active"));
        li.classList.add("active");
        highlight(c.document_id, c.bbox);
      };
    }
    list.append(li);
  }
  return el("div", { className: "msg" }, badge, speak, el("p", { className: "answer", textContent: text }),
    rx.citations.length ? el("details", { open: true }, el("summary", { textContent: t("sources") }), list) : null);
}

function readAloud(text, lang) {
  if (!("speechSynthesis" in window)) return;
  speechSynthesis.cancel();
  const u = new SpeechSynthesisUtterance(text.replace(/\[\d+\]/g, ""));
  u.lang = lang === "zh" ? "zh-CN" : "en-US";
  u.rate = 0.9;
  speechSynthesis.speak(u);
}

async function showDocument(doc) {
  const r = await fetch(doc.image_url, { headers: headers() });
  if (!r.ok) return;
  const img = new Image();
  img.src = URL.createObjectURL(await r.blob());
  await img.decode();
  state.image = { doc: doc.id, img };
  state.box = null;
  draw();
  $("photo-card").hidden = false;
  renderFields(doc);
}

const fieldLabel = (k) => FIELDS[state.lang][k] || k.replace(/_/g, " ");

function renderFields(doc) {
  const rows = Object.entries(doc.fields).map(([k, f]) => el("tr", {}, el("th", { textContent: fieldLabel(k) }), el("td", { textContent: f.value })));
  const drugs = doc.drugs.map((d) => `${d.text} (${d.ingredients.join(", ")})`).join("； ");
  $("fields").replaceChildren(el("h3", { textContent: t("fields") }), el("table", {}, ...rows),
    el("p", {}, el("b", { textContent: t("drugs") + "：" }), drugs));
  renderSchedule(doc);
}

function draw() {
  const canvas = $("photo");
  const { img } = state.image;
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const g = canvas.getContext("2d");
  g.drawImage(img, 0, 0);
  if (!state.box) return;
  g.lineWidth = Math.max(3, img.naturalWidth / 250);
  g.strokeStyle = "#e00"; g.fillStyle = "rgba(255, 220, 0, 0.25)";
  g.beginPath();
  state.box.forEach(([x, y], i) => (i ? g.lineTo(x, y) : g.moveTo(x, y)));
  g.closePath(); g.fill(); g.stroke();
}

async function highlight(docId, bbox) {
  if (!state.image || state.image.doc !== docId) await showDocument(state.docs[docId]);
  state.box = bbox;
  draw();
  $("photo").dataset.highlight = JSON.stringify(bbox);
  $("photo-card").scrollIntoView({ behavior: "smooth" });
}

// Times of day from how often a prescription says to take a medicine.
const TIMES = { 1: ["08:00"], 2: ["08:00", "20:00"], 3: ["08:00", "13:00", "19:00"], 4: ["08:00", "12:00", "16:00", "20:00"] };

function scheduleOf(m) {
  if (m.as_needed) return [];
  if (m.at_night) return ["21:00"];
  return TIMES[Math.round(m.times_per_day || 0)] || [];
}

function renderSchedule(doc) {
  const box = $("schedule");
  const meds = doc.doc_type === "prescription" ? doc.medications : [];
  box.hidden = !meds.length;
  if (!meds.length) return;
  const rows = meds.map((m) => el("tr", {}, el("td", { textContent: `${m.name} ${m.strength} ${m.dose}` }),
    el("td", { textContent: scheduleOf(m).join("  ") || t("asNeeded") })));
  const ics = el("button", { type: "button", textContent: t("ics"), onclick: () => exportIcs(meds) });
  box.replaceChildren(el("h3", { textContent: t("schedule") }), el("table", {}, ...rows), ics);
}

function exportIcs(meds) {
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, "");
  const lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//RxLens//dosing schedule//EN"];
  meds.forEach((m, i) => scheduleOf(m).forEach((time) => {
    const days = parseInt((m.duration.match(/\d+/) || ["30"])[0], 10);
    lines.push("BEGIN:VEVENT", `UID:rxlens-${day}-${i}-${time.replace(":", "")}@rxlens`,
      `DTSTAMP:${day}T000000Z`, `DTSTART:${day}T${time.replace(":", "")}00`, `RRULE:FREQ=DAILY;COUNT=${days}`,
      `SUMMARY:${[m.name, m.strength, m.dose].filter(Boolean).join(" ").replace(/[,;\\]/g, " ")}`, "END:VEVENT");
  }));
  lines.push("END:VCALENDAR");
  const a = el("a", { href: URL.createObjectURL(new Blob([lines.join("\r\n")], { type: "text/calendar" })), download: "rxlens-schedule.ics" });
  a.click();
}

$("lang").onclick = () => {
  state.lang = state.lang === "zh" ? "en" : "zh";
  localStorage.setItem("rxlens.lang", state.lang);
  applyLanguage();
  if (state.image) renderFields(state.docs[state.image.doc]);
};
$("med-form").onsubmit = (e) => { e.preventDefault(); const v = $("med-input").value.trim(); if (v && !state.meds.includes(v)) state.meds.push(v); $("med-input").value = ""; renderMeds(); };
$("file").onchange = () => { state.file = $("file").files[0] || null; $("file-name").textContent = state.file ? state.file.name : ""; };
$("ask").onsubmit = ask;
applyLanguage();
renderMeds();
