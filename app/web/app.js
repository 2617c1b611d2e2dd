// The caregiver page. Plain JS against the public API: /v1/documents?wait=false and /v1/jobs/{id} (a photo is
// uploaded and read as soon as it is chosen, while the question is typed), /v1/chat/completions (the question, with
// the photo's stored document by id: the photo is not sent twice), /v1/documents/{id}/image for the photo the
// citations point into and /v1/documents/{id}/drugs (the drug list read from a prescription or box, confirmed or
// corrected by the user before the answer). Everything user-written is inserted as text
// (never HTML), because documents can contain anything.
"use strict";

const T = {
  zh: { meds: "我的用药清单", add: "添加", photo: "照片", attach: "拍照/选图", send: "提问", key: "访问密钥",
        placeholder: "例如：这药能和阿司匹林一起吃吗？", medPlaceholder: "药名，如 华法林", other: "English",
        avoid: "不建议合用", caution: "需要注意", no_known_interaction: "未发现相互作用", insufficient_data: "信息不足",
        info: "信息", sources: "来源", fields: "识别出的内容", drugs: "药品", speak: "🔊 朗读", schedule: "服药时间表",
        ics: "导出到日历 (.ics)", asNeeded: "需要时服用", noFrequency: "未读到服用频次", everyOtherDay: "隔日",
        thinking: "正在查询…", error: "出错了：", you: "我", more: "详细说明和来源", newChat: "新对话",
        sourceId: "来源编号", photoQuestion: "这是什么药？需要注意什么？", yourPhoto: "您的照片",
        reading: "读取照片", recognising: "识别药物", checking: "核对相互作用", writing: "撰写回答",
        checkDrugs: "请核对照片上读到的药品", unsure: "⚠ 请核对", drugName: "药名", strength: "规格", remove: "删除",
        checkHint: "标 ⚠ 的药名没看清或没认出，请对照原件修改；多的删掉，少的添加。确认后，这次和以后的回答都按这份清单。",
        recognizedAs: "识别为：", notRecognized: "未能识别这个药名", addDrug: "＋ 添加药品", confirmAsk: "确认并提问",
        confirmedList: "已确认的药品：", editDrugs: "修改药品清单", saveDrugs: "保存清单",
        photoReading: "正在读取照片…", photoRead: "照片已读好 ✓", photoFailed: "照片读取失败" },
  en: { meds: "My medications", add: "Add", photo: "Photo", attach: "Photo", send: "Ask", key: "API key",
        placeholder: "e.g. Can I take this with aspirin?", medPlaceholder: "Drug name, e.g. warfarin", other: "中文",
        avoid: "Avoid", caution: "Caution", no_known_interaction: "No known interaction", insufficient_data: "Not enough information",
        info: "Information", sources: "Sources", fields: "What was read", drugs: "Drugs", speak: "🔊 Read aloud", schedule: "Dosing schedule",
        ics: "Export to calendar (.ics)", asNeeded: "as needed", noFrequency: "frequency not read", everyOtherDay: "every other day",
        thinking: "Checking…", error: "Error: ", you: "Me", more: "Details and sources", newChat: "New chat",
        sourceId: "Source id", photoQuestion: "What is this medicine and what should I watch out for?", yourPhoto: "Your photo",
        reading: "Reading the photo", recognising: "Recognising the medicines", checking: "Checking interactions",
        writing: "Writing the answer",
        checkDrugs: "Check the medicines read from the photo", unsure: "⚠ Please check", drugName: "Drug name",
        strength: "Strength", remove: "Remove",
        checkHint: "Names marked ⚠ were hard to read or not recognised: correct them against the original, remove extra ones, add missing ones. Once confirmed, this answer and later ones use this list.",
        recognizedAs: "Recognised as: ", notRecognized: "Name not recognised", addDrug: "+ Add a medicine",
        confirmAsk: "Confirm and ask", confirmedList: "Confirmed medicines: ", editDrugs: "Edit the medicine list",
        saveDrugs: "Save the list", photoReading: "Reading the photo…", photoRead: "Photo read ✓",
        photoFailed: "The photo could not be read" },
};
const STAGES = ["reading", "recognising", "checking", "writing"];
// What went wrong and what to do, by the API's stable error `code`: the API's own message is English, so it is
// never shown on the Chinese page.
const ERRORS = {
  zh: { bad_image: "这个文件不是能读取的图片。请拍一张药盒、说明书或处方的照片（JPG 或 PNG）再试。",
        image_too_large: "照片太大了。请换一张较小的照片，或截图后再试。",
        image_too_small: "照片太小，看不清文字。请靠近一些、拍清楚后再试。",
        no_text: "照片上没有读到文字。请对准药盒、说明书或处方，在光线充足处重拍。",
        request_too_large: "上传的内容太大了。请只附一张照片，或换一张较小的照片。",
        unsupported_media_type: "不支持这种文件格式。请上传 JPG 或 PNG 照片。",
        rate_limited: "提问太频繁了。请稍等一分钟再试。",
        busy: "服务器正忙。请稍等片刻再试。",
        invalid_input: "问题或附件的格式不对。请检查后重新提问。",
        unauthorized: "需要访问密钥。请在页面底部“访问密钥”中填写后再试。",
        not_found: "找不到这条记录（可能已被删除）。请开始新对话。",
        upstream_error: "识别服务暂时没有响应。请稍后再试。",
        ocr_unavailable: "照片识别暂时不可用。请稍后再试，或直接输入药名提问。",
        max_tokens_too_small: "回答长度限制太小。请放宽限制后再试。",
        model_not_found: "服务配置有误。请联系管理员。",
        network: "无法连接服务器。请检查网络后再试。",
        other: "出了点问题。请稍后再试。" },
  en: { bad_image: "This file is not a readable image. Take a photo of the box, leaflet or prescription (JPG or PNG) and try again.",
        image_too_large: "The photo is too large. Use a smaller photo or a screenshot and try again.",
        image_too_small: "The photo is too small to read. Move closer, take a sharp photo and try again.",
        no_text: "No text was found on the photo. Aim at the box, leaflet or prescription in good light and try again.",
        request_too_large: "The upload is too large. Attach one photo only, or a smaller one.",
        unsupported_media_type: "This file type is not supported. Upload a JPG or PNG photo.",
        rate_limited: "Too many questions at once. Wait a minute and try again.",
        busy: "The server is busy. Wait a moment and try again.",
        invalid_input: "The question or attachment is not in a form the server accepts. Check it and ask again.",
        unauthorized: "An API key is needed. Enter it under “API key” at the bottom of the page and try again.",
        not_found: "That record was not found (it may have been deleted). Start a new chat.",
        upstream_error: "The reading service did not answer. Try again later.",
        ocr_unavailable: "Reading photos is not available right now. Try again later, or type the drug names.",
        max_tokens_too_small: "The answer length limit is too small. Raise it and try again.",
        model_not_found: "The service is misconfigured. Contact the administrator.",
        network: "The server cannot be reached. Check the connection and try again.",
        other: "Something went wrong. Try again later." },
};
// The same codes when the drug list is confirmed: what the user can change in the list.
const CONFIRM_ERRORS = {
  zh: { invalid_input: "药品清单不能为空，每个药名不超过 200 个字。请至少填写一种药品后再确认。" },
  en: { invalid_input: "The list cannot be empty, and a name is at most 200 characters. Enter at least one medicine and confirm again." },
};
// Documents whose drug list is shown for confirmation before the answer: what a prescription or a box is about.
const REVIEWED_TYPES = ["prescription", "package", "label"];
// Sources as people know them (a citation can name several, comma-separated); the raw ids stay in a folded detail.
function sourceName(c) {
  if (c.document_id) return [t("yourPhoto"), c.field && fieldLabel(c.field)].filter(Boolean).join(" · ");
  const names = (c.source || "").split(/,\s*/).filter(Boolean).map(knownSource);
  return [...new Set(names)].join(state.lang === "zh" ? "、" : ", ");
}

function knownSource(s) {
  const zh = state.lang === "zh";
  if (["rxlens_curated", "drug_interaction_mcp"].includes(s) || s.startsWith("dailymed") || s.startsWith("openfda"))
    return zh ? "美国药品说明书" : "US drug label";
  if (s.startsWith("ansm")) return zh ? "法国药监局相互作用目录" : "French ANSM thesaurus";
  if (s.startsWith("ddinter")) return "DDInter";
  if (s.startsWith("onc")) return zh ? "美国ONC清单" : "ONC list";
  return s;
}
// Names of the fields the OCR pipeline reads from leaflets, boxes and prescriptions; others show their key.
const FIELDS = {
  zh: { drug_name: "药品名称", generic_name: "通用名称", brand_name: "商品名称", english_name: "英文名称", ingredients: "成份",
        description: "性状", indications: "适应症", strength: "规格", dosage: "用法用量", adverse_reactions: "不良反应",
        contraindications: "禁忌", precautions: "注意事项", warnings: "警告", pregnancy: "孕妇及哺乳期用药",
        pediatric_use: "儿童用药", geriatric_use: "老年用药", interactions: "药物相互作用", overdosage: "药物过量",
        storage: "贮藏", shelf_life: "有效期", approval_number: "批准文号", manufacturer: "生产企业", quantity: "数量",
        directions: "用法", hospital: "医院", patient_name: "姓名", sex: "性别", age: "年龄", department: "科别",
        diagnosis: "诊断", doctor: "医师", date: "日期", pharmacy: "药房", pinyin: "汉语拼音",
        manufacturer_address: "生产地址", address: "地址", marketing_authorization_holder: "上市许可持有人",
        packager: "分装企业", package: "包装", standard: "执行标准", pharmacology: "药理毒理",
        pharmacokinetics: "药代动力学", clinical_trials: "临床试验", specific_populations: "特殊人群用药" },
  en: { drug_name: "Drug name", generic_name: "Generic name", brand_name: "Brand name", english_name: "English name",
        ingredients: "Ingredients", description: "Description", indications: "Uses", strength: "Strength", dosage: "Dosage",
        adverse_reactions: "Side effects", contraindications: "Do not use if", precautions: "Precautions", warnings: "Warnings",
        pregnancy: "Pregnancy and breastfeeding", pediatric_use: "Children", geriatric_use: "Older adults",
        interactions: "Interactions", overdosage: "Overdose", storage: "Storage", shelf_life: "Shelf life",
        approval_number: "Approval number", manufacturer: "Manufacturer", quantity: "Quantity", directions: "Directions",
        hospital: "Hospital", patient_name: "Patient", sex: "Sex", age: "Age", department: "Department",
        diagnosis: "Diagnosis", doctor: "Doctor", date: "Date", pharmacy: "Pharmacy", pinyin: "Pinyin name",
        manufacturer_address: "Manufacturer address", address: "Address",
        marketing_authorization_holder: "Marketing authorisation holder", packager: "Packager", package: "Package",
        standard: "Quality standard", pharmacology: "Pharmacology", pharmacokinetics: "Pharmacokinetics",
        clinical_trials: "Clinical trials", specific_populations: "Specific populations" },
};
const $ = (id) => document.getElementById(id);
const saved = JSON.parse(localStorage.getItem("rxlens.chat") || "{}");
const state = {
  lang: localStorage.getItem("rxlens.lang") || ((navigator.language || "zh").toLowerCase().startsWith("zh") ? "zh" : "en"),
  meds: JSON.parse(localStorage.getItem("rxlens.meds") || "[]"),
  // The chat as rendered data (no photo bytes: a photo is re-fetched from its document's image), kept across reloads.
  conversation: saved.conversation || null, messages: saved.messages || [], docs: saved.docs || {},
  file: null, image: null, box: null,
  reading: null,  // the chosen photo's reading, started when it was chosen: { file, promise, status, created, asked }
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

function headers(json = true) {
  const h = json ? { "Content-Type": "application/json" } : {};
  const key = $("api-key").value.trim() || localStorage.getItem("rxlens.key");
  if (key) { h.Authorization = "Bearer " + key; localStorage.setItem("rxlens.key", key); }
  return h;
}

function save() {
  // Documents are kept without their OCR lines: the fields, drugs and medications are what the page shows.
  const docs = {};
  for (const [id, d] of Object.entries(state.docs)) { const { lines, timings_ms, ...kept } = d; docs[id] = kept; }
  try {
    localStorage.setItem("rxlens.chat", JSON.stringify({ conversation: state.conversation, messages: state.messages, docs }));
  } catch (e) { /* storage full: the chat still works, it is just not kept */ }
}

class ApiError extends Error {
  constructor(error) { super(error.message || ""); this.code = error.code || "other"; }
}

// One streamed answer: progress stages as they arrive, then the result in the last chunk's `rxlens`.
async function streamAnswer(body, onStage) {
  let r;
  try {
    r = await fetch("/v1/chat/completions", { method: "POST", headers: headers(), body: JSON.stringify({ ...body, stream: true }) });
  } catch (e) { throw new ApiError({ code: "network" }); }
  if (!r.ok) {
    const data = await r.json().catch(() => ({}));
    throw new ApiError(data.error || { code: "other", message: r.statusText });
  }
  const reader = r.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "", text = "", result = null;
  for (;;) {
    const { done, value } = await reader.read();
    if (value) buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
      const payload = event.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("");
      if (!payload || payload === "[DONE]") continue;
      const chunk = JSON.parse(payload);
      if (chunk.error) throw new ApiError(chunk.error);
      const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
      if (delta && delta.content) text += delta.content;
      if (chunk.rxlens && chunk.rxlens.progress) onStage(chunk.rxlens.progress.stage);
      else if (chunk.rxlens) result = chunk.rxlens;
    }
    if (done) break;
  }
  if (!result) throw new ApiError({ code: "other" });
  return { text, rx: result };
}

function progressView() {
  const list = el("ol", { className: "progress" });
  const view = el("div", { className: "msg pending" }, el("span", { textContent: t("thinking") }), list);
  view.stage = (stage) => {
    const at = STAGES.indexOf(stage);
    if ((list.dataset.stages || "").split(" ").includes(stage)) return at;
    list.querySelectorAll("li").forEach((li) => li.classList.add("done"));
    list.append(el("li", { className: "current", textContent: t(stage) }));
    list.dataset.stages = [list.dataset.stages, stage].filter(Boolean).join(" ");
    return at;
  };
  return view;
}

async function ask(event) {
  event.preventDefault();
  const question = $("question").value.trim();
  if (!question && !state.file) return;
  // A photo alone asks the page's question in the page's language: from an empty text the server cannot tell.
  const content = [{ type: "text", text: question || t("photoQuestion") }];
  const file = state.file;
  const reading = file ? (state.reading && state.reading.file === file ? state.reading : startReading(file)) : null;
  if (reading) reading.asked = true;
  const mine = { role: "user", text: question, photo: file ? {} : null };
  const bubble = renderUser(mine, file ? URL.createObjectURL(file) : null);
  $("chat").append(bubble);
  const pending = progressView();
  $("chat").append(pending);
  $("send").disabled = true;
  $("question").value = ""; state.file = null; state.reading = null; $("file").value = ""; $("file-name").textContent = "";
  showReading(null);
  let reply;
  try {
    const doc = reading ? await readAndConfirm(reading, pending, mine) : null;
    const body = { model: "rxlens", messages: [{ role: "user", content }], rxlens: { medications: state.meds } };
    if (doc) body.rxlens.document_ids = [doc.id];  // read already: the photo is not uploaded again
    if (state.conversation) body.rxlens.conversation_id = state.conversation;
    const { text, rx } = await streamAnswer(body, pending.stage);
    state.conversation = rx.conversation_id;
    for (const d of rx.documents) state.docs[d.id] = d;
    if (file && rx.documents.length) {
      const d = rx.documents[0];
      mine.photo = { id: d.id, image_url: d.image_url, rotation: d.rotation || 0 };
      bubble.querySelector("img.thumb").style.transform = `rotate(${mine.photo.rotation}deg)`;
    }
    const { documents, ...kept } = rx;
    reply = { role: "assistant", text, rx: { ...kept, document_ids: documents.map((d) => d.id) } };
    pending.replaceWith(renderAnswer(reply));
    if (rx.documents.length) await showDocument(state.docs[rx.documents[0].id]);
  } catch (e) {
    if (e.code === "cancelled") { $("send").disabled = false; return; }
    reply = { role: "error", code: e.code || "other", message: e.message };
    if (mine.photo && !mine.photo.id) {  // no stored document to show it from later: the bubble says a photo was sent
      mine.photo = null;
      bubble.replaceWith(renderUser(mine));
    }
    pending.replaceWith(renderError(reply));
  } finally {
    $("send").disabled = false;
  }
  if (!mine.pushed) state.messages.push(mine);
  delete mine.pushed;
  state.messages.push(reply);
  save();
}

// A photo is read (and stored) from the moment it is chosen (`startReading`), so the reading overlaps the typing of
// the question; asking waits for what is left of it. A prescription's or box's drug list, or any list with an entry
// the reading was unsure of, is shown for the user to confirm or correct first. The question then names the stored
// document (no second upload, no second reading) and is answered from the confirmed list.
async function readAndConfirm(reading, pending, mine) {
  pending.stage("reading");
  const doc = await reading.promise;
  state.docs[doc.id] = doc;
  mine.photo = { id: doc.id, image_url: doc.image_url, rotation: doc.rotation || 0 };
  if (doc.confirmed || !(doc.needs_confirmation || REVIEWED_TYPES.includes(doc.doc_type))) return doc;
  const list = await api(`/v1/documents/${doc.id}/drugs`, { headers: headers(false) });
  if (!list.drugs.length && !doc.needs_confirmation) return doc;
  const confirmed = await confirmCard(list, pending, t("confirmAsk"));
  state.docs[doc.id] = { ...doc, confirmed: { drugs: confirmed.drugs, at: confirmed.confirmed_at }, needs_confirmation: false };
  const note = { role: "confirmed", drugs: confirmed.drugs };
  state.messages.push(mine, note);
  mine.pushed = true;
  pending.before(renderConfirmed(note));
  return doc;
}

// Upload a chosen photo at once, to be read by a job (202, then /v1/jobs/{id} until done); resolves with the stored
// document. A server that reads it in the request (201/200) answers the document itself.
function startReading(file) {
  const reading = { file, status: "reading", created: false, asked: false };
  reading.promise = (async () => {
    const form = new FormData();
    form.append("file", file, file.name || "photo.jpg");
    let job = await api("/v1/documents?wait=false", { method: "POST", headers: headers(false), body: form });
    if (!job.job_id) return job;
    for (let wait = 150; job.status === "queued" || job.status === "running"; wait = Math.min(wait * 1.5, 1000)) {
      await new Promise((ok) => setTimeout(ok, wait));
      job = await api(`/v1/jobs/${job.job_id}`, { headers: headers(false) });
    }
    if (job.status !== "done") throw new ApiError(job.error || { code: "other" });
    reading.created = job.created;
    return api(`/v1/documents/${job.document_id}`, { headers: headers(false) });
  })();
  reading.promise.then((doc) => { reading.status = "read"; reading.documentId = doc && doc.id; },
    () => { reading.status = "failed"; })
    .then(() => { if (state.reading === reading) showReading(reading); });
  return reading;
}

// What the question bar says about the chosen photo: being read, read, or not readable (why: when asking).
function showReading(reading) {
  const status = $("photo-status");
  status.textContent = reading ? t({ reading: "photoReading", read: "photoRead", failed: "photoFailed" }[reading.status]) : "";
  status.className = reading ? reading.status : "";
}

// Another photo chosen instead: the first one's document goes, unless this upload created none (the owner had
// stored that photo before) or the new choice is the same photo.
function chooseFile() {
  const previous = state.reading;
  state.file = $("file").files[0] || null;
  $("file-name").textContent = state.file ? state.file.name : "";
  state.reading = state.file ? startReading(state.file) : null;
  showReading(state.reading);
  const next = state.reading;
  if (!previous || previous.asked) return;
  Promise.allSettled([previous.promise, next ? next.promise : null]).then(([before, now]) => {
    const id = before.status === "fulfilled" && previous.created && !previous.asked ? before.value.id : null;
    if (id && !(now.status === "fulfilled" && now.value && now.value.id === id))
      api(`/v1/documents/${id}`, { method: "DELETE", headers: headers(false) }).catch(() => {});
  });
}

// The page closed with a photo chosen and read but never asked about: the document this upload created goes (a
// photo is kept only where the user asked about it; `keepalive` lets the request outlive the page).
window.addEventListener("pagehide", () => {
  const r = state.reading;
  if (r && !r.asked && r.created && r.documentId)
    fetch(`/v1/documents/${r.documentId}`, { method: "DELETE", headers: headers(false), keepalive: true }).catch(() => {});
});

async function api(url, init) {
  let r;
  try { r = await fetch(url, init); } catch (e) { throw new ApiError({ code: "network" }); }
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new ApiError(data.error || { code: "other", message: r.statusText });
  return data;
}

// The drug list as editable rows, entries the reading was unsure of marked; resolves with the stored list once the
// server has accepted it (its refusal, e.g. an empty list, is said in the page's language and the card stays).
function confirmCard(list, before, label) {
  return new Promise((done, fail) => {
    const rows = el("ul", { className: "confirm-list" });
    const row = (d = {}) => {
      const name = el("input", { className: "drug-name", value: d.name || "", maxLength: 200, placeholder: t("drugName") });
      name.setAttribute("aria-label", t("drugName"));
      const strength = el("input", { className: "drug-strength", value: d.strength || "", maxLength: 100, placeholder: t("strength") });
      strength.setAttribute("aria-label", t("strength"));
      const unsure = d.needs_confirmation || (d.name && !d.recognized);
      const known = d.recognized ? t("recognizedAs") + ((d.ingredient_names || {})[state.lang] || d.ingredients || []).join("、")
        : d.name ? t("notRecognized") : "";
      const li = el("li", { className: unsure ? "unsure" : "" },
        el("div", { className: "inputs" }, name, strength,
          el("button", { type: "button", className: "remove-drug", textContent: "×", title: t("remove"), onclick: () => li.remove() })),
        unsure ? el("span", { className: "flag", textContent: t("unsure") }) : null,
        known ? el("span", { className: "known", textContent: known }) : null);
      li.dataset.dose = d.dose || ""; li.dataset.frequency = d.frequency || "";
      rows.append(li);
      return name;
    };
    list.drugs.forEach((d) => row(d));
    const error = el("p", { className: "confirm-error", role: "alert" });
    const confirm = el("button", { type: "button", className: "confirm-drugs", textContent: label });
    const card = el("div", { className: "msg confirm", id: "confirm-card" },
      el("h3", { textContent: t("checkDrugs") }), el("p", { className: "hint", textContent: t("checkHint") }), rows,
      el("div", { className: "actions" },
        el("button", { type: "button", className: "add-drug", textContent: t("addDrug"), onclick: () => row().focus() }), confirm),
      error);
    confirm.onclick = async () => {
      const drugs = [...rows.querySelectorAll("li")].map((li) => ({
        name: li.querySelector(".drug-name").value.trim(), strength: li.querySelector(".drug-strength").value.trim(),
        dose: li.dataset.dose, frequency: li.dataset.frequency })).filter((d) => d.name);
      confirm.disabled = true;
      try {
        const saved = await api(`/v1/documents/${list.document_id}/drugs`,
          { method: "PUT", headers: headers(), body: JSON.stringify({ drugs }) });
        card.remove();
        state.cancelConfirm = null;
        done(saved);
      } catch (e) {
        error.textContent = t("error") + ((CONFIRM_ERRORS[state.lang] || {})[e.code] || ERRORS[state.lang][e.code] || ERRORS[state.lang].other);
      } finally {
        confirm.disabled = false;
      }
    };
    // "New chat" while the list is open drops it, and the question waiting for it.
    state.cancelConfirm = () => { card.remove(); fail(new ApiError({ code: "cancelled" })); };
    before.before(card);
    card.scrollIntoView({ block: "start" });
  });
}

function renderConfirmed(m) {
  const names = m.drugs.map((d) => [d.name, d.strength].filter(Boolean).join(" ")).join(state.lang === "zh" ? "、" : ", ");
  return el("div", { className: "msg confirmed" }, el("b", { textContent: t("confirmedList") }), names);
}

// From the photo card: correct a stored document's list later; the next question uses it.
async function editDrugs(doc) {
  if ($("confirm-card")) return;
  try {
    const list = await api(`/v1/documents/${doc.id}/drugs`, { headers: headers(false) });
    const saved = await confirmCard(list, $("ask"), t("saveDrugs"));
    state.docs[doc.id] = { ...doc, confirmed: { drugs: saved.drugs, at: saved.confirmed_at }, needs_confirmation: false };
    const note = { role: "confirmed", drugs: saved.drugs };
    state.messages.push(note);
    $("chat").append(renderConfirmed(note));
    renderFields(state.docs[doc.id]);
    save();
  } catch (e) {
    if (e.code !== "cancelled") $("chat").append(renderError({ code: e.code || "other", message: e.message }));
  }
}

function renderUser(m, src) {
  const bubble = el("div", { className: "msg user" }, el("b", {}, t("you") + "："), m.text || (m.photo ? "" : "📷"));
  if (m.photo) {
    const img = el("img", { className: "thumb", alt: t("yourPhoto") });
    if (m.photo.rotation) img.style.transform = `rotate(${m.photo.rotation}deg)`;
    if (src) img.src = src;
    else if (m.photo.image_url) fetchImage(m.photo.image_url).then((url) => { if (url) img.src = url; });
    bubble.append(el("div", { className: "thumb-box" }, img));
  }
  return bubble;
}

function renderError(m) {
  const sentence = ERRORS[state.lang][m.code] || (state.lang === "en" && m.message) || ERRORS[state.lang].other;
  return el("div", { className: "msg error", role: "alert" }, el("span", { textContent: t("error") + sentence }));
}

function renderAnswer(m) {
  const { text, rx } = m;
  const [lead, ...rest] = text.split("\n");
  const badge = el("span", { className: "badge " + rx.verdict, textContent: t(rx.verdict) });
  const speak = el("button", { type: "button", className: "speak", textContent: t("speak"), onclick: () => readAloud(text, rx.language) });
  const list = el("ol", { className: "citations" });
  for (const c of rx.citations) {
    const quote = c.text.length > 160 ? c.text.slice(0, 160) + "…" : c.text;
    const li = el("li", { value: c.id }, el("span", { textContent: `${sourceName(c)}: ${quote}` }));
    if (!c.document_id) {
      li.append(el("details", { className: "raw" }, el("summary", { textContent: t("sourceId") }),
        el("code", { textContent: [c.source, c.record].filter(Boolean).join(" · ") })));
    }
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
  const more = el("details", { className: "more" }, el("summary", { textContent: t("more") }),
    el("p", { className: "rest", textContent: rest.join("\n").trim() }),
    rx.citations.length ? el("h4", { textContent: t("sources") }) : null, rx.citations.length ? list : null, speak);
  return el("div", { className: "msg assistant" },
    el("p", { className: "lead" }, badge, " ", el("span", { className: "lead-text", textContent: lead })), more);
}

function renderChat() {
  const views = state.messages.map((m) => m.role === "user" ? renderUser(m) : m.role === "error" ? renderError(m)
    : m.role === "confirmed" ? renderConfirmed(m) : renderAnswer(m));
  $("chat").replaceChildren(...views);
}

function newChat() {
  if (state.cancelConfirm) { state.cancelConfirm(); state.cancelConfirm = null; }
  state.conversation = null; state.messages = []; state.docs = {}; state.image = null; state.box = null;
  $("chat").replaceChildren();
  $("photo-card").hidden = true;
  save();
}

function readAloud(text, lang) {
  if (!("speechSynthesis" in window)) return;
  speechSynthesis.cancel();
  const u = new SpeechSynthesisUtterance(text.replace(/\[\d+\]/g, ""));
  u.lang = lang === "zh" ? "zh-CN" : "en-US";
  u.rate = 0.9;
  speechSynthesis.speak(u);
}

async function fetchImage(url) {
  const r = await fetch(url, { headers: headers(false) }).catch(() => null);
  return r && r.ok ? URL.createObjectURL(await r.blob()) : null;
}

async function showDocument(doc) {
  if (!doc) return;
  const url = await fetchImage(doc.image_url);
  if (!url) return;
  const img = new Image();
  img.src = url;
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
  const drugs = doc.confirmed
    ? doc.confirmed.drugs.map((d) => [d.name, d.strength].filter(Boolean).join(" ")).join("； ")
    : doc.drugs.map((d) => `${d.text} (${d.ingredients.join(", ")})`).join("； ");
  const edit = REVIEWED_TYPES.includes(doc.doc_type) || doc.needs_confirmation || doc.confirmed
    ? el("button", { type: "button", className: "edit-drugs", textContent: t("editDrugs"), onclick: () => editDrugs(doc) }) : null;
  $("fields").replaceChildren(el("h3", { textContent: t("fields") }), el("table", {}, ...rows),
    el("p", {}, el("b", { textContent: (doc.confirmed ? t("confirmedList") : t("drugs") + "：") }), drugs), edit);
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

// Times of day from the frequency the prescription was read to say (medications[].frequency), else its count.
const TIMES = { 1: ["08:00"], 2: ["08:00", "20:00"], 3: ["08:00", "13:00", "19:00"], 4: ["08:00", "12:00", "16:00", "20:00"],
                6: ["06:00", "10:00", "14:00", "18:00", "22:00", "02:00"] };
const BY_CODE = { qd: TIMES[1], qod: TIMES[1], bid: TIMES[2], tid: TIMES[3], qid: TIMES[4], qn: ["21:00"], qhs: ["21:00"],
                  q12h: ["08:00", "20:00"], q8h: ["06:00", "14:00", "22:00"], q6h: ["06:00", "12:00", "18:00", "24:00"],
                  q4h: TIMES[6] };

function scheduleOf(m) {
  if (m.as_needed || m.frequency === "prn") return [];
  if (BY_CODE[m.frequency]) return BY_CODE[m.frequency];
  if (m.at_night) return ["21:00"];
  return TIMES[Math.round(m.times_per_day || 0)] || [];
}

function whenText(m) {
  const times = scheduleOf(m);
  if (times.length) return times.join("  ") + (m.frequency === "qod" ? ` (${t("everyOtherDay")})` : "");
  if (m.as_needed || m.frequency === "prn") return t("asNeeded");
  return t("noFrequency");
}

function renderSchedule(doc) {
  const box = $("schedule");
  const meds = doc.doc_type !== "prescription" ? [] : doc.confirmed ? doc.confirmed.drugs.map((d) => confirmedRow(doc, d)) : doc.medications;
  box.hidden = !meds.length;
  if (!meds.length) return;
  const rows = meds.map((m) => el("tr", {}, el("td", { textContent: [m.name, m.strength, m.dose].filter(Boolean).join(" ") }),
    el("td", { className: "when", textContent: whenText(m) })));
  const ics = el("button", { type: "button", textContent: t("ics"), onclick: () => exportIcs(meds) });
  box.replaceChildren(el("h3", { textContent: t("schedule") }), el("table", {}, ...rows), ics);
}

// A confirmed entry as a schedule row: the read row of the same name lends its frequency where the user gave none
// the schedule knows.
function confirmedRow(doc, d) {
  const read = doc.medications.find((m) => m.name === d.name) || {};
  const own = BY_CODE[d.frequency] || d.frequency === "prn" ? { frequency: d.frequency, as_needed: d.frequency === "prn" } : {};
  return { ...read, name: d.name, strength: d.strength, dose: d.dose, ...own };
}

function exportIcs(meds) {
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, "");
  const lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//RxLens//dosing schedule//EN"];
  meds.forEach((m, i) => scheduleOf(m).forEach((time) => {
    const days = parseInt(((m.duration || "").match(/\d+/) || ["30"])[0], 10);
    const every = m.frequency === "qod" ? 2 : 1;
    const hhmm = time === "24:00" ? "2359" : time.replace(":", "");
    lines.push("BEGIN:VEVENT", `UID:rxlens-${day}-${i}-${hhmm}@rxlens`,
      `DTSTAMP:${day}T000000Z`, `DTSTART:${day}T${hhmm}00`,
      `RRULE:FREQ=DAILY;INTERVAL=${every};COUNT=${Math.max(1, Math.ceil(days / every))}`,
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
  showReading(state.reading);
  if (!$("send").disabled) renderChat();  // not while an answer is pending: its progress view would be dropped
  if (state.image) renderFields(state.docs[state.image.doc]);
};
$("new-chat").onclick = newChat;
$("med-form").onsubmit = (e) => { e.preventDefault(); const v = $("med-input").value.trim(); if (v && !state.meds.includes(v)) state.meds.push(v); $("med-input").value = ""; renderMeds(); };
$("file").onchange = chooseFile;
$("ask").onsubmit = ask;
applyLanguage();
renderMeds();
renderChat();
{
  const last = [...state.messages].reverse().find((m) => m.rx && m.rx.document_ids && m.rx.document_ids.length);
  if (last) showDocument(state.docs[last.rx.document_ids[0]]);
}
