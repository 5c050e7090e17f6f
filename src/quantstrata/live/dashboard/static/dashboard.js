// quantstrata live dashboard: renders the snapshots the server pushes (server-sent events)
// and sends kill-switch requests. No library, no request outside this server.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);
let role = null;
let seenTrades = new Set();
let firstRender = true;

function money(value, digits = 2) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function quantity(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  return value.toLocaleString("en-US", { maximumFractionDigits: 6 });
}

function signed(element, value, digits = 2) {
  element.textContent = (value > 0 ? "+" : "") + money(value, digits);
  element.classList.toggle("up", value > 0);
  element.classList.toggle("down", value < 0);
}

function shortTime(text) {
  if (!text) return "–";
  return text.replace("T", " ").replace(/(\.\d+)?(Z|\+00:00)$/, "");
}

function pill(element, text, kind) {
  element.textContent = text;
  element.className = "pill " + (kind || text);
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function fillTable(id, rows, columns, emptyText) {
  const body = $(id).querySelector("tbody");
  body.replaceChildren();
  if (rows.length === 0) {
    const tr = document.createElement("tr");
    const td = cell(tr, emptyText, "empty");
    td.colSpan = $(id).querySelectorAll("th").length;
    body.appendChild(tr);
    return [];
  }
  return rows.map((item) => {
    const tr = document.createElement("tr");
    for (const [value, className] of columns(item)) cell(tr, value, className);
    body.appendChild(tr);
    return tr;
  });
}

function renderKpis(snapshot) {
  const account = snapshot.account;
  $("kpi-equity").textContent = money(account.equity);
  if (account.pnl === null) {
    $("kpi-pnl").textContent = "–";
    $("kpi-pnl-pct").textContent = "";
  } else {
    signed($("kpi-pnl"), account.pnl);
    const pct = account.start_equity ? (100 * account.pnl) / account.start_equity : 0;
    $("kpi-pnl-pct").textContent = (pct > 0 ? "+" : "") + pct.toFixed(2) + " %";
  }
  signed($("kpi-realized"), account.realized_pnl);
  signed($("kpi-unrealized"), account.unrealized_pnl);
  $("kpi-cash").textContent = money(account.cash);
  $("kpi-exposure").textContent = money(account.exposure);
  const counters = snapshot.counters;
  $("kpi-bars").textContent = counters.bar_times.toLocaleString("en-US");
  $("kpi-orders").textContent = counters.orders_sent.toLocaleString("en-US");
  $("kpi-fills").textContent = counters.fills.toLocaleString("en-US");
  $("kpi-rejections").textContent = counters.risk_rejections.toLocaleString("en-US");
}

function renderHeader(snapshot) {
  $("run-id").textContent = snapshot.run_id;
  $("broker").textContent = snapshot.broker;
  $("last-bar").textContent = shortTime(snapshot.last_bar);
  $("updated").textContent = new Date().toLocaleTimeString("en-GB");
  pill($("run-status"), snapshot.status);
  pill($("trading-state"), "trading " + snapshot.risk.global, snapshot.risk.global);
  pill($("global-state"), snapshot.risk.global);
  pill($("role"), snapshot.role, snapshot.role === "admin" ? "admin" : "muted");
  role = snapshot.role;
  const readOnly = role !== "admin";
  $("read-only").hidden = !readOnly;
  for (const button of document.querySelectorAll("button[data-action]")) button.disabled = readOnly;
  $("control-reason").disabled = readOnly;
  $("cancel-open").disabled = readOnly;
}

function renderPositions(snapshot) {
  fillTable("positions", snapshot.positions, (p) => [
    [p.symbol],
    [quantity(p.quantity), "n " + (p.quantity > 0 ? "buy" : p.quantity < 0 ? "sell" : "")],
    [money(p.average_price), "n"],
    [money(p.mark), "n"],
    [money(p.market_value), "n"],
    [money(p.unrealized_pnl), "n " + (p.unrealized_pnl > 0 ? "up" : p.unrealized_pnl < 0 ? "down" : "")],
    [money(p.realized_pnl), "n " + (p.realized_pnl > 0 ? "up" : p.realized_pnl < 0 ? "down" : "")],
  ], "no position");
}

function renderRisk(snapshot) {
  // Rows (and their buttons) are built once per symbol list, then updated in place.
  const body = $("risk").querySelector("tbody");
  const symbols = snapshot.risk.symbols.map((r) => r.symbol).join(",");
  if (body.dataset.symbols !== symbols || body.dataset.role !== role) {
    body.replaceChildren();
    body.dataset.symbols = symbols;
    body.dataset.role = role;
    for (const item of snapshot.risk.symbols) {
      const tr = document.createElement("tr");
      tr.dataset.symbol = item.symbol;
      cell(tr, item.symbol);
      cell(tr, "").appendChild(document.createElement("span"));
      cell(tr, "").appendChild(document.createElement("span"));
      cell(tr, "", "n");
      const actions = cell(tr, "", "n");
      for (const [action, label, kind] of [["halt", "Halt", "danger"], ["reduce-only", "Reduce", "warn"], ["resume", "Resume", "ok"]]) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "mini " + kind;
        button.textContent = label;
        button.dataset.symbolAction = action;
        button.disabled = role !== "admin";
        button.addEventListener("click", () => control(action, item.symbol));
        actions.appendChild(button);
      }
      body.appendChild(tr);
    }
  }
  snapshot.risk.symbols.forEach((item, index) => {
    const tr = body.children[index];
    pill(tr.children[1].firstChild, item.state);
    pill(tr.children[2].firstChild, item.effective);
    tr.children[3].textContent = item.position.toLocaleString("en-US", { maximumFractionDigits: 4 });
    tr.title = "position limit: " + (item.max_position_units === null ? "none" : quantity(item.max_position_units) + " units");
  });
}

function renderOrders(snapshot) {
  fillTable("orders", snapshot.orders, (o) => [
    [o.order_id],
    [o.symbol],
    [o.side, o.side],
    [o.type],
    [quantity(o.quantity), "n"],
    [quantity(o.filled), "n"],
    [o.limit_price !== null ? money(o.limit_price) : o.stop_price !== null ? money(o.stop_price) : "market", "n"],
    [o.status],
  ], "no open order");
}

function renderHealth(snapshot) {
  const rows = fillTable("health", snapshot.health, (h) => [
    [h.symbol ? h.component + " " + h.symbol : h.component],
    [h.state],
    [h.detail, "detail"],
  ], "no health data");
  rows.forEach((tr, index) => {
    const state = snapshot.health[index].state;
    const span = document.createElement("span");
    pill(span, state);
    tr.children[1].replaceChildren(span);
  });
}

function renderFills(snapshot) {
  const rows = fillTable("fills", snapshot.fills, (f) => [
    [shortTime(f.ts)],
    [f.symbol],
    [f.side, f.side],
    [quantity(f.quantity), "n"],
    [money(f.price), "n"],
    [money(f.commission), "n"],
    [f.trade_id],
  ], "no fill yet");
  rows.forEach((tr, index) => {
    const trade = snapshot.fills[index].trade_id;
    tr.dataset.tradeId = trade;
    if (!seenTrades.has(trade) && !firstRender) tr.classList.add("new");
  });
  seenTrades = new Set(snapshot.fills.map((f) => f.trade_id));
}

function renderAlerts(snapshot) {
  const list = $("alerts");
  list.replaceChildren();
  if (snapshot.alerts.length === 0) {
    const li = document.createElement("li");
    li.className = "hint";
    li.textContent = "no alert";
    list.appendChild(li);
    return;
  }
  for (const alert of snapshot.alerts) {
    const li = document.createElement("li");
    li.className = alert.level;
    const level = document.createElement("b");
    level.textContent = alert.level.toUpperCase();
    const title = document.createElement("span");
    title.textContent = alert.source + (alert.symbol ? " [" + alert.symbol + "]" : "") + ": " + alert.title;
    const time = document.createElement("time");
    time.textContent = shortTime(alert.ts);
    const detail = document.createElement("p");
    detail.textContent = alert.detail;
    li.append(level, title, time, detail);
    list.appendChild(li);
  }
}

function svg(name, attributes, text) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

function niceTicks(low, high, count) {
  const span = high - low || Math.abs(high) || 1;
  const raw = span / count;
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) || raw;
  const ticks = [];
  for (let value = Math.ceil(low / step) * step; value <= high + step * 1e-9; value += step) ticks.push(value);
  return ticks;
}

function renderChart(snapshot) {
  const chart = $("equity-chart");
  const width = chart.clientWidth || 800;
  const height = chart.clientHeight || 260;
  chart.setAttribute("viewBox", `0 0 ${width} ${height}`);
  chart.replaceChildren();
  const points = snapshot.equity;
  if (points.length < 2) {
    chart.appendChild(svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle" }, "waiting for bars…"));
    $("equity-range").textContent = "";
    return;
  }
  const left = 78, right = 14, top = 12, bottom = 26;
  const values = points.map((p) => p[1]);
  const start = snapshot.account.start_equity ?? values[0];
  let low = Math.min(...values, start), high = Math.max(...values, start);
  const pad = (high - low) * 0.08 || Math.abs(high) * 0.001 || 1;
  low -= pad; high += pad;
  const x = (i) => left + (i / (points.length - 1)) * (width - left - right);
  const y = (v) => top + (1 - (v - low) / (high - low)) * (height - top - bottom);
  const defs = svg("defs", {});
  const last = values[values.length - 1];
  const colour = last >= start ? "#22c55e" : "#ef4444";
  const gradient = svg("linearGradient", { id: "equity-fill", x1: 0, y1: 0, x2: 0, y2: 1 });
  gradient.append(svg("stop", { offset: "0%", "stop-color": colour, "stop-opacity": 0.28 }),
    svg("stop", { offset: "100%", "stop-color": colour, "stop-opacity": 0.02 }));
  defs.appendChild(gradient);
  chart.appendChild(defs);
  for (const tick of niceTicks(low, high, 5)) {
    chart.appendChild(svg("line", { x1: left, x2: width - right, y1: y(tick), y2: y(tick), class: "grid-line" }));
    chart.appendChild(svg("text", { x: left - 8, y: y(tick) + 4, "text-anchor": "end" }, money(tick, 0)));
  }
  const labels = [0, Math.floor((points.length - 1) / 2), points.length - 1];
  labels.forEach((index, position) => {
    const anchor = ["start", "middle", "end"][position];
    chart.appendChild(svg("text", { x: x(index), y: height - 8, "text-anchor": anchor }, points[index][0].slice(0, 10)));
  });
  chart.appendChild(svg("line", { x1: left, x2: width - right, y1: y(start), y2: y(start), class: "baseline" }));
  const line = values.map((v, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join("");
  const floor = (height - bottom).toFixed(1);
  chart.appendChild(svg("path", { d: `${line}L${x(values.length - 1).toFixed(1)},${floor}L${left},${floor}Z`, fill: "url(#equity-fill)" }));
  chart.appendChild(svg("path", { d: line, fill: "none", stroke: colour, "stroke-width": 1.8, "stroke-linejoin": "round", id: "equity-line" }));
  chart.appendChild(svg("circle", { cx: x(values.length - 1), cy: y(last), r: 3.5, fill: colour }));
  $("equity-range").textContent = `${points.length} bars · ${points[0][0].slice(0, 10)} → ${points[points.length - 1][0].slice(0, 10)}`;
}

// Redraw a part only when its data changed, so buttons are not replaced under the pointer.
const drawn = {};
function part(name, data, draw, snapshot) {
  const text = JSON.stringify(data);
  if (drawn[name] === text) return;
  drawn[name] = text;
  draw(snapshot);
}

function render(snapshot) {
  renderHeader(snapshot);
  renderKpis(snapshot);
  part("chart", [snapshot.equity.length, snapshot.equity[snapshot.equity.length - 1], snapshot.account.start_equity], renderChart, snapshot);
  part("positions", snapshot.positions, renderPositions, snapshot);
  part("risk", [snapshot.risk, snapshot.role], renderRisk, snapshot);
  part("orders", snapshot.orders, renderOrders, snapshot);
  part("health", snapshot.health, renderHealth, snapshot);
  part("fills", snapshot.fills, renderFills, snapshot);
  part("alerts", snapshot.alerts, renderAlerts, snapshot);
  firstRender = false;
  document.body.dataset.bars = String(snapshot.counters.bar_times);
}

async function control(action, symbol) {
  const result = $("control-result");
  const reason = $("control-reason").value.trim();
  const cancelOpen = action === "halt" && $("cancel-open").checked;
  result.textContent = "sending…";
  try {
    const response = await fetch("/api/trading-state", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Quantstrata-Dashboard": "1" },
      body: JSON.stringify({ action, symbol, reason, cancel_open: cancelOpen }),
    });
    const body = await response.json();
    if (!response.ok) {
      result.textContent = "refused (" + response.status + "): " + body.detail;
      return;
    }
    result.textContent = (symbol || "all symbols") + " → " + body.state +
      (cancelOpen ? " (" + body.cancelled + " working orders cancelled)" : "");
  } catch (error) {
    result.textContent = "failed: " + error;
  }
}

function connect() {
  const source = new EventSource("/api/events");
  source.addEventListener("open", () => pill($("connection"), "live"));
  source.addEventListener("snapshot", (event) => render(JSON.parse(event.data)));
  source.addEventListener("error", () => {
    const closed = source.readyState === EventSource.CLOSED;
    pill($("connection"), closed ? "disconnected" : "reconnecting", closed ? "bad" : "reconnecting");
  });
}

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button[data-action]")) {
    button.addEventListener("click", () => control(button.dataset.action, null));
  }
  window.addEventListener("resize", () => {
    delete drawn.chart;
    fetch("/api/snapshot").then((r) => r.json()).then(render).catch(() => {});
  });
  connect();
});
