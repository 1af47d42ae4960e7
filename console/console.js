// Conveyor's web console: one page over the producer's own HTTP API, with the caller's
// credentials (a client's bearer token from POST /Token, or an admin key). Views by the
// location's hash: #/overview, #/tasks, #/tasks/<Id>, #/types, #/deadletters (admin keys).
// Live views poll the API once a second while they are shown; nothing is polled on a hidden
// tab. Text from the API is only ever set as text (textContent), never parsed as HTML.
"use strict";

(() => {
  const POLL_MS = 1000;
  const OVERVIEW_EVERY = 5;  // the overview counts and asks for the queue every fifth poll
  const STATES = ["Unknown", "New", "Aquired", "Started", "Succeeded", "Failed"];
  const FINAL = new Set(["Succeeded", "Failed"]);
  const PAGE_SIZE = 25;
  const TASKS = "/api/v1/BatchTask";
  const ACCOUNT_TASKS = "/api/v2/admin/tasks/account";
  const TYPES = "/api/v1/admin/tasktypes";
  const CLIENTS = "/api/v1/admin/clients";
  const QUEUE = "/api/v1/admin/queue";
  const DEAD_LETTERS = "/api/v1/admin/deadletters";
  // The fields a TwoSms update takes: Enable/Disable sends the task's own values back with
  // Enabled changed, because the update replaces them all.
  const UPDATE_FIELDS = ["TaskID", "Frequency", "StartDate", "FinishDate", "Parameters", "ContentType",
    "Notification", "Recurrence", "TimeZone", "CatchUp", "CatchUpLimit", "Overlap"];

  const $ = (id) => document.getElementById(id);

  // An element with properties (text, className, attributes as attrs) and children.
  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key === "text") node.textContent = value;
      else if (key === "attrs") for (const [a, v] of Object.entries(value)) node.setAttribute(a, v);
      else node[key] = value;
    }
    node.append(...children);
    return node;
  }

  // Replaces `container`'s children, keeping the keyboard focus on the link or button of the
  // same address (or data-key) if it was inside: live redraws must not drop it.
  function redraw(container, children) {
    const focused = document.activeElement;
    const key = container.contains(focused) ? focused.getAttribute("href") || focused.dataset.key : null;
    container.replaceChildren(...children);
    if (!key) return;
    for (const node of container.querySelectorAll("a, button"))
      if (node.getAttribute("href") === key || node.dataset.key === key) return node.focus();
  }

  // ---------------------------------------------------------------- session and the API

  const session = {
    get token() { return sessionStorage.getItem("conveyor.token"); },
    get label() { return sessionStorage.getItem("conveyor.label") || ""; },
    get admin() { return sessionStorage.getItem("conveyor.kind") === "admin"; },
    save(token, label, kind) {
      sessionStorage.setItem("conveyor.token", token);
      sessionStorage.setItem("conveyor.label", label);
      sessionStorage.setItem("conveyor.kind", kind);
    },
    clear() { for (const k of ["token", "label", "kind"]) sessionStorage.removeItem("conveyor." + k); },
  };

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  // The words of an error answer in any of the three dialects' envelopes.
  function messageOf(body, text, status) {
    if (body && typeof body === "object") {
      if (typeof body.Error === "string") return (body.Field ? body.Field + ": " : "") + body.Error;
      if (body.Error && typeof body.Error.ErrorReason === "string") return body.Error.ErrorReason;
      if (typeof body.detail === "string") return body.detail;
      if (typeof body.error_description === "string") return body.error_description;
    }
    return `the producer answered ${status}` + (text ? ": " + text.slice(0, 200) : "");
  }

  // The answer's JSON; with `withTotal`, {items, total}: a page and its X-Total-Count.
  async function send(method, path, { body, headers = {}, withTotal = false } = {}) {
    let res;
    try {
      res = await fetch(path, { method, headers: { Accept: "application/json", ...headers }, body });
    } catch (e) {
      throw new ApiError(0, `the producer did not answer (${e.message}); is it running?`);
    }
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { /* an error page, say */ }
    if (!res.ok) throw new ApiError(res.status, messageOf(json, text, res.status));
    return withTotal ? { items: json, total: Number(res.headers.get("X-Total-Count")) } : json;
  }

  // A request with the session's credentials; a 401 ends the session, saying why.
  async function api(method, path, body, withTotal = false) {
    const headers = { Authorization: "Bearer " + session.token };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    try {
      return await send(method, path, { headers, withTotal, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      if (e.status === 401) signOut("Signed out: the producer refused these credentials (" + e.message + ").");
      throw e;
    }
  }

  // ---------------------------------------------------------------- errors in words

  let notice = "";  // what the next route() shows once it has cleared the old banner

  function showError(message) {
    const box = $("error");
    if (box.textContent !== message) box.textContent = message;  // a screen reader hears it once
    box.hidden = false;
  }
  function clearError() { $("error").hidden = true; $("error").textContent = ""; }

  // ---------------------------------------------------------------- sign in and out

  async function signIn(event) {
    event.preventDefault();
    const kind = new FormData($("login")).get("kind");
    try {
      if (kind === "admin") {
        const key = $("admin-key").value.trim();
        if (!key) return showError("Enter an admin key.");
        await send("GET", QUEUE, { headers: { Authorization: "Bearer " + key } }).catch((e) => {
          if (e.status === 401 || e.status === 403) throw new ApiError(e.status, "that is not an admin key the producer knows");
        });
        session.save(key, "admin key " + key.split(".")[0], "admin");
      } else {
        const id = $("client-id").value.trim(), secret = $("client-secret").value;
        if (!id || !secret) return showError("Enter the client's id and secret.");
        const token = await send("POST", "/Token", {
          headers: { Authorization: "Basic " + btoa(id + ":" + secret),
                     "Content-Type": "application/x-www-form-urlencoded" },
          body: "grant_type=client_credentials",
        });
        session.save(token.access_token, "client " + id, "client");
      }
    } catch (e) {
      return showError("Not signed in: " + e.message);
    }
    $("login").reset();
    loadChoices();
    go("#/tasks");
  }

  function signOut(reason) {
    session.clear();
    // The next person starts from no filter, and sees no client of the last one's.
    $("filters").reset();
    $("filter-client").replaceChildren(el("option", { value: "", text: "any" }));
    page = 0;
    forgetFinished();
    notice = reason || "";
    go("");
  }

  // Shows `hash`: route() runs once, whether or not the hash changes.
  function go(hash) {
    if (location.hash === hash || (hash === "" && location.hash === "#")) route();
    else location.hash = hash;
  }

  // ---------------------------------------------------------------- views

  // Each route() starts a new generation: a poll or a load of an older one draws nothing and
  // shows no error, so a slow answer for the last view never lands in the next.
  let generation = 0;
  let timer = 0;

  // Calls load() now and every POLL_MS while the view is shown; load resolves to a function
  // that draws what it read, called only if the view is still the one shown.
  function startPolling(load) {
    const mine = generation;
    let failed = false;
    const tick = async () => {
      if (mine !== generation) return;
      if (!document.hidden) {
        try {
          const draw = await load();
          if (mine !== generation) return;
          draw();
          if (failed) { clearError(); failed = false; }
        } catch (e) {
          if (mine !== generation) return;
          failed = true;
          showError(e.message);
        }
      }
      if (mine === generation) timer = setTimeout(tick, POLL_MS);
    };
    tick();
  }

  const NAV_OF = { overview: "overview", tasks: "tasks", task: "tasks", types: "types", deadletters: "deadletters" };

  function show(view) {
    for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== "view-" + view;
    for (const link of document.querySelectorAll("#nav a")) {
      if (link.dataset.view === NAV_OF[view]) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  }

  function route() {
    generation++;
    clearTimeout(timer);
    clearError();
    if (notice) { showError(notice); notice = ""; }
    const signedIn = !!session.token;
    $("nav").hidden = $("sign-out").hidden = !signedIn;
    $("nav-deadletters").hidden = !session.admin;
    $("who").textContent = signedIn ? "Signed in with " + session.label : "";
    if (!signedIn) {
      show("login");
      $("client-id").focus();
      return;
    }
    const [, view = "tasks", id] = location.hash.split("/");
    const mine = generation;
    const once = (load) => load().then((draw) => { if (mine === generation) draw(); })
      .catch((e) => { if (mine === generation) showError(e.message); });
    if (view === "overview") { show("overview"); startPolling(loadOverview()); }
    else if (view === "types") { show("types"); once(async () => { await loadTypes(); return () => {}; }); }
    else if (view === "deadletters" && session.admin) { show("deadletters"); once(loadDeadLetters); }
    else if (view === "tasks" && id) { show("task"); openTask(id); }
    else { show("tasks"); startPolling(async () => { await listTasks(); return renderTasks; }); }
  }

  // ---------------------------------------------------------------- the task list

  let page = 0;
  let listed = { items: [], total: 0 };  // the page shown and how many match in all

  // A page of GET /api/v1/BatchTask ($top, docs/superoffice.md "Paging the REST list").
  function pagePath(top, skip, filters) {
    const q = new URLSearchParams({ $top: top, $skip: skip, $orderby: "Id desc" });
    for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
    return `${TASKS}?${q}`;
  }

  function filters() {
    return { state: $("filter-state").value, name: $("filter-type").value,
             clientId: session.admin ? $("filter-client").value : "", search: $("filter-text").value.trim() };
  }

  async function listTasks() {
    listed = await api("GET", pagePath(PAGE_SIZE, page * PAGE_SIZE, filters()), undefined, true);
    // Fewer match than before (tasks finished, a filter narrowed): back to the last page.
    const last = Math.max(0, Math.ceil(listed.total / PAGE_SIZE) - 1);
    if (page > last) {
      page = last;
      listed = await api("GET", pagePath(PAGE_SIZE, page * PAGE_SIZE, filters()), undefined, true);
    }
  }

  function stateBadge(state) { return el("span", { className: "state " + state, text: state }); }

  function progressCell(task) {
    const percent = Number(task.ProgressPercent) || 0;
    return el("td", { className: "progress" },
      el("progress", { max: 100, value: percent, attrs: { "aria-label": `Task ${task.Id} progress` } }),
      ` ${percent}%`,
      task.ProgressDescription ? el("div", { className: "muted", text: task.ProgressDescription }) : "");
  }

  function taskRow(task) {
    return el("tr", { attrs: { "data-id": task.Id } },
      el("td", {}, el("a", { href: "#/tasks/" + task.Id, text: String(task.Id) })),
      el("td", { text: task.Name }),
      el("td", { className: "state-cell" }, stateBadge(task.State)),
      progressCell(task),
      el("td", { text: String(task.StartCount ?? 0) }),
      el("td", { text: when(task.LastStarted) }),
      el("td", { className: "result", text: task.Result || "" }));
  }

  function renderTasks() {
    const pages = Math.max(1, Math.ceil(listed.total / PAGE_SIZE));
    redraw($("task-table").tBodies[0], listed.items.map(taskRow));
    $("task-empty").hidden = listed.total > 0;
    $("page-info").textContent = `page ${page + 1} of ${pages} · ${listed.total} task${listed.total === 1 ? "" : "s"}`;
    $("page-prev").disabled = page === 0;
    $("page-next").disabled = page >= pages - 1;
  }

  // ---------------------------------------------------------------- the overview

  // Tasks seen to finish, by minute, since the page opened (or the last sign-in): how much
  // the Succeeded and Failed counts rose from one poll to the next.
  const finishedByMinute = new Map();  // minute → {ok, bad}
  let lastFinal = null;                // {ok, bad} at the previous poll

  function forgetFinished() { finishedByMinute.clear(); lastFinal = null; }

  function noteFinished(counts) {
    const now = { ok: counts.Succeeded, bad: counts.Failed };
    if (lastFinal) {
      const minute = Math.floor(Date.now() / 60000);
      const bucket = finishedByMinute.get(minute) || { ok: 0, bad: 0 };
      // Deleted or retired tasks lower a count: that is not a task finishing.
      bucket.ok += Math.max(0, now.ok - lastFinal.ok);
      bucket.bad += Math.max(0, now.bad - lastFinal.bad);
      finishedByMinute.set(minute, bucket);
    }
    lastFinal = now;
  }

  // The number of tasks in each state: one counted empty page per state.
  async function countByState() {
    const totals = await Promise.all(STATES.map((state) =>
      api("GET", pagePath(0, 0, { state }), undefined, true).then((p) => p.total)));
    return Object.fromEntries(STATES.map((s, i) => [s, totals[i]]));
  }

  // The overview's load, every OVERVIEW_EVERY-th poll: counting every task by state costs
  // PostgreSQL a pass over all of them (bench/console-poll), where a page of the list does not.
  function loadOverview() {
    let polls = 0, counts = null, queue = null;
    return async () => {
      if (polls++ % OVERVIEW_EVERY !== 0) return () => {};
      const asks = [countByState().then((c) => { counts = c; })];
      if (session.admin)
        asks.push(api("GET", QUEUE).then((q) => { queue = q.ResponseData.Detail; }, (e) => { queue = { error: e.message }; }));
      await Promise.all(asks);
      noteFinished(counts);
      return () => drawOverview(counts, queue);
    };
  }

  function countCard(n, label, href) {
    const body = [el("span", { className: "n", text: String(n) }), el("span", { className: "label", text: label })];
    return href ? el("a", { className: "count", href, attrs: { "data-key": label } }, ...body)
                : el("div", { className: "count" }, ...body);
  }

  function drawOverview(counts, queue) {
    const cards = STATES.map((s) => {
      const card = countCard(counts[s], s, "#/tasks");
      card.onclick = () => { $("filter-state").value = s; page = 0; };
      return card;
    });
    cards.push(countCard(counts.Aquired + counts.Started, "runs in flight"));
    if (queue && !queue.error) {
      cards.push(countCard(queue.ConsumerLag, "commands not yet done by the workers"));
      if (queue.DeadLetters !== null) cards.push(countCard(queue.DeadLetters, "dead letters", "#/deadletters"));
    }
    redraw($("state-counts"), cards);
    $("queue-error").hidden = !(queue && queue.error);
    $("queue-error").textContent = queue && queue.error ? "The queue could not be read: " + queue.error : "";
    drawThroughput();
  }

  function drawThroughput() {
    const svg = $("throughput"), ns = "http://www.w3.org/2000/svg";
    const now = Math.floor(Date.now() / 60000), minutes = 15, width = 600, height = 140;
    const buckets = [];
    for (let m = now - minutes + 1; m <= now; m++) buckets.push(finishedByMinute.get(m) || { ok: 0, bad: 0 });
    const top = Math.max(1, ...buckets.map((b) => b.ok + b.bad));
    const bar = width / minutes;
    const shapes = [];
    buckets.forEach((b, i) => {
      const okH = (b.ok / top) * height, badH = (b.bad / top) * height;
      for (const [h, y, cls, n] of [[okH, height - okH, "ok", b.ok], [badH, height - okH - badH, "bad", b.bad]]) {
        if (!n) continue;
        const rect = document.createElementNS(ns, "rect");
        for (const [k, v] of Object.entries({ x: i * bar + 2, y, width: bar - 4, height: h, class: cls })) rect.setAttribute(k, v);
        const title = document.createElementNS(ns, "title");
        title.textContent = `${n} ${cls === "ok" ? "succeeded" : "failed"}, ${minutes - 1 - i} min ago`;
        rect.append(title);
        shapes.push(rect);
      }
    });
    svg.replaceChildren(...shapes);
    $("throughput-scale").textContent = `the last ${minutes} minutes, oldest on the left; the tallest bar is ${top}`;
    const ok = buckets.reduce((n, b) => n + b.ok, 0), bad = buckets.reduce((n, b) => n + b.bad, 0);
    $("failure-rate").textContent = ok + bad ? `${Math.round((100 * bad) / (ok + bad))}%` : "–";
  }

  // ---------------------------------------------------------------- one task

  let task = null;     // the task shown (BatchTaskInfo)
  let account = null;  // the same task in TwoSms's form (Enabled, Status, runs)

  function openTask(id) {
    task = account = null;
    $("task-title").textContent = "Task " + id;
    $("task-fields").replaceChildren();
    $("task-progress").value = 0;
    $("task-percent").textContent = $("task-progress-text").textContent = "";
    $("run-table").tBodies[0].replaceChildren();
    $("run-log").textContent = $("run-log-size").textContent = "";
    for (const b of document.querySelectorAll("#view-task .actions button")) b.disabled = true;
    startPolling(() => loadTask(id));
  }

  async function loadTask(id) {
    if (!/^\d{1,18}$/.test(id)) throw new ApiError(400, `'${id}' is not a task number.`);
    let info;
    try {
      info = await api("GET", `${TASKS}/${id}`);
    } catch (e) {
      if (e.status === 404) throw new ApiError(404, `There is no task ${id}, or it is not yours to see.`);
      throw e;
    }
    const [detail, runList] = await Promise.all([
      api("GET", `${ACCOUNT_TASKS}/${info.Context}`),
      api("GET", `${ACCOUNT_TASKS}/${info.Context}/runs`)]);
    const runs = runList.ResponseData.Detail || [];
    // The latest run that ran: a skipped due time (newer, while a long run goes on) has no log.
    const latest = runs.find((r) => r.Status !== "Skipped");
    const log = latest
      ? (await api("GET", `${ACCOUNT_TASKS}/${info.Context}/runs/${latest.RunID}/log`)).ResponseData.Detail
      : null;
    return () => {
      task = info;
      account = detail.ResponseData.Detail;
      renderTask(info, account, runs);
      renderLog(log);
    };
  }

  function field(name, value, pre = false) {
    const dd = el("dd", { attrs: { "data-field": name } });
    if (pre) dd.append(el("pre", { text: value })); else dd.textContent = value;
    return [el("dt", { text: name }), dd];
  }

  function renderTask(info, detail, runs) {
    $("task-title").replaceChildren(`Task ${info.Id} · ${info.Name} `, stateBadge(info.State));
    const percent = Number(info.ProgressPercent) || 0;
    $("task-progress").value = percent;
    $("task-percent").textContent = percent + "%";
    $("task-progress-text").textContent = info.ProgressDescription || "";
    $("task-fields").replaceChildren(
      ...field("Status", detail.Status), ...field("Result", info.Result || "–"),
      ...field("Enabled", detail.Enabled ? "yes" : "no"), ...field("Frequency", detail.Frequency),
      ...field("Start count", String(info.StartCount ?? 0)), ...field("Created", when(info.Created)),
      ...field("Last started", when(info.LastStarted)), ...field("Worker", detail.LastRunBy || "–"),
      ...field("Owner", detail.ClientID ? "client " + detail.ClientID : "system task (an admin key's)"),
      ...field("Cancellation", info.CancellationBehaviour), ...field("UUID", info.Context),
      ...field("Parameters", JSON.stringify(info.ParameterObject, null, 2), true));
    const running = ["New", "Aquired", "Started"].includes(info.State);
    const uncancellable = info.CancellationBehaviour === "CannotCancel";
    $("act-stop").disabled = !running || uncancellable;
    $("act-note").textContent = running && uncancellable
      ? `Stop is not offered: tasks of type ${info.Name} cannot be cancelled (CannotCancel), and deleting one is refused until its run ends.`
      : "";
    $("act-retry").disabled = !FINAL.has(info.State);
    $("act-enable").disabled = $("act-delete").disabled = false;
    $("act-enable").textContent = detail.Enabled ? "Disable" : "Enable";
    $("run-table").tBodies[0].replaceChildren(...runs.map(runRow));
  }

  // The end of the latest run's log (GET …/runs/{runId}/log: its last 16,384 characters).
  function renderLog(log) {
    const pre = $("run-log");
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    if (!log) {
      pre.textContent = "(no run yet)";
      $("run-log-size").textContent = "";
      return;
    }
    const text = log.Bytes ? log.Tail : "(the run wrote no log)";
    if (pre.textContent !== text) {
      pre.textContent = text;
      if (atBottom) pre.scrollTop = pre.scrollHeight;  // follows the end unless scrolled up
    }
    const shown = new TextEncoder().encode(log.Tail).length;
    $("run-log-size").textContent = log.Bytes > shown
      ? `(the last ${shown} of ${log.Bytes} bytes)` : log.Bytes ? `(${log.Bytes} bytes)` : "";
  }

  function runRow(run) {
    return el("tr", {},
      el("td", {}, stateBadge(run.Status)), el("td", { text: when(run.QueuedOn) }),
      el("td", { text: when(run.StartedOn) }), el("td", { text: when(run.FinishedOn) }),
      el("td", { text: duration(run.StartedOn, run.FinishedOn) }),
      el("td", { text: String(run.StartCount) }), el("td", { text: String(run.Attempt) }),
      el("td", { text: run.RunBy || "–" }), el("td", { className: "result", text: run.Result || "" }));
  }

  // Asks with the confirmation dialog; resolves true on OK.
  function confirmAction(text) {
    const dialog = $("confirm");
    $("confirm-text").textContent = text;
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
      dialog.returnValue = "";
      dialog.showModal();
      dialog.querySelector("button[value=cancel]").focus();
    });
  }

  // After the confirmation, `request`; its refusal in the producer's words, else `done`.
  async function act(question, request, done) {
    if (!(await confirmAction(question))) return;
    try {
      await request();
      clearError();
      if (done) done();
    } catch (e) {
      showError("Refused: " + e.message);
    }
  }

  // Each action works on the task shown when it was clicked, whatever the page shows by the
  // time the dialog closes.
  function wireTaskActions() {
    $("act-stop").onclick = () => {
      const t = task;
      if (!t) return;
      act(`Stop task ${t.Id} (${t.Name})?`, async () => {
        // StopBatchJob answers false when there was no run left to stop.
        if ((await api("POST", `${TASKS}/${t.Id}/Stop`, {})) === false)
          throw new ApiError(409, `task ${t.Id} was not stopped: its run is over`);
      });
    };
    $("act-retry").onclick = () => {
      const t = task;
      if (t) act(`Run task ${t.Id} (${t.Name}) again?`, () => api("PUT", `${TASKS}/${t.Id}`, { State: "New" }));
    };
    $("act-enable").onclick = () => {
      const t = task, a = account;
      if (!t || !a) return;
      const enable = !a.Enabled;
      const update = { Enabled: enable };
      for (const f of UPDATE_FIELDS) if (a[f] !== undefined) update[f] = a[f];
      act(`${enable ? "Enable" : "Disable"} task ${t.Id}? ${enable ? "It runs again on its schedule." : "Its schedule stops and a running run is stopped."}`,
        () => api("PUT", `/api/v1/admin/tasks/account/${t.Context}`, update));
    };
    $("act-delete").onclick = () => {
      const t = task;
      if (t) act(`Delete task ${t.Id} (${t.Name}) for good?`, () => api("DELETE", `${TASKS}/${t.Id}`),
        () => go("#/tasks"));
    };
  }

  // ---------------------------------------------------------------- dead letters (admin keys)

  async function loadDeadLetters() {
    const answer = await api("GET", `${DEAD_LETTERS}?pageSize=200`);
    const letters = answer.ResponseData.Detail || [];
    const total = answer.ResponseData.Paging.TotalCount;
    return () => {
      $("dead-count").textContent = total > letters.length
        ? `the newest ${letters.length} of ${total} messages` : `${total} message${total === 1 ? "" : "s"}`;
      $("dead-empty").hidden = letters.length > 0;
      redraw($("dead-table").tBodies[0], letters.map(deadRow));
    };
  }

  function deadRow(d) {
    const where = `${d.partition}:${d.offset}`;
    const replay = el("button", { type: "button", text: "Replay", attrs: { "data-key": where } });
    replay.disabled = !d.origin_topic;
    replay.title = d.origin_topic ? "" : "It does not say which topic it came from";
    replay.onclick = () => act(
      `Replay the dead letter ${where} (${d.type || "not an event"}) to ${d.origin_topic}? Do it once its cause is fixed: the workers apply it as the command it was.`,
      async () => {
        const r = (await api("POST", `${DEAD_LETTERS}/${d.partition}/${d.offset}/replay`)).ResponseData.Detail;
        $("dead-done").textContent = `Replayed ${where} to ${r.Topic}[${r.ToPartition}]@${r.ToOffset}.`;
      }, () => route());
    return el("tr", { attrs: { "data-where": where } },
      el("td", { text: where }), el("td", { text: d.type || "(not an event)" }),
      el("td", { text: d.subject || "–" }), el("td", { className: "result", text: d.reason || "–" }),
      el("td", { text: d.origin_topic ? `${d.origin_topic}[${d.origin_partition}]@${d.origin_offset}` : "unknown" }),
      el("td", {}, replay));
  }

  // ---------------------------------------------------------------- task types

  let types = [];

  async function loadTypes() {
    const answer = await api("GET", TYPES);
    types = answer.ResponseData.Detail || [];
    $("type-table").tBodies[0].replaceChildren(...types.map((t) => el("tr", {},
      el("td", { text: t.Name }), el("td", { text: t.Handler }),
      el("td", { text: t.TimeoutSeconds === null ? "none" : t.TimeoutSeconds + " s" }),
      el("td", { text: String(t.MaxAttempts) }), el("td", { text: t.RetryBackoffMs + " ms" }),
      el("td", { text: t.CancellationBehaviour }), el("td", { className: "muted", text: t.ID }))));
    const select = $("filter-type"), chosen = select.value;
    select.replaceChildren(el("option", { value: "", text: "any" }),
      ...types.map((t) => el("option", { value: t.Name, text: t.Name })));
    select.value = chosen;
  }

  // The filters' choices: the task types, and for an admin key the clients.
  function loadChoices() {
    loadTypes().catch(() => {});
    $("filter-client-label").hidden = !session.admin;
    if (!session.admin) return;
    api("GET", CLIENTS).then((answer) => {
      const select = $("filter-client"), chosen = select.value;
      select.replaceChildren(el("option", { value: "", text: "any" }),
        ...(answer.ResponseData.Detail || []).map((c) => el("option", { value: c.ID, text: `${c.Name} (${c.ID.slice(0, 8)})` })));
      select.value = chosen;
    }).catch(() => {});
  }

  // ---------------------------------------------------------------- formatting

  function when(text) {
    if (!text) return "–";
    const t = new Date(text);
    return isNaN(t) ? text : t.toLocaleString();
  }

  function duration(from, to) {
    if (!from) return "–";
    const ms = (to ? new Date(to) : new Date()) - new Date(from);
    if (isNaN(ms)) return "–";
    const s = Math.round(ms / 1000);
    return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
  }

  // ---------------------------------------------------------------- start

  function start() {
    $("filter-state").append(...STATES.map((s) => el("option", { value: s, text: s })));
    $("login").addEventListener("submit", signIn);
    $("login").addEventListener("change", () => {
      const admin = new FormData($("login")).get("kind") === "admin";
      document.querySelector(".client-fields").hidden = admin;
      document.querySelector(".admin-fields").hidden = !admin;
    });
    $("sign-out").onclick = () => signOut();
    // A filter or page change asks for the new page at once (the text after a pause in typing).
    let typing = 0;
    for (const id of ["filter-state", "filter-type", "filter-client"])
      $(id).addEventListener("input", () => { page = 0; route(); });
    $("filter-text").addEventListener("input", () => {
      page = 0;
      clearTimeout(typing);
      typing = setTimeout(() => { page = 0; route(); }, 300);
    });
    $("filters").addEventListener("submit", (e) => e.preventDefault());
    $("page-prev").onclick = () => { page--; route(); };
    $("page-next").onclick = () => { page++; route(); };
    $("dead-refresh").onclick = () => route();
    wireTaskActions();
    window.addEventListener("hashchange", route);
    if (session.token) loadChoices();
    route();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
