import { type Assessment, type ChecklistItem, type Dependency, type IsoDate, type UpstreamGap, type Verdict } from '@smart-backfill/core';
import type { CalendarModel, DayCell } from './calendar-model.js';
import { weekdayOf } from './calendar-model.js';
import { DAY_STATES, DAY_STYLES, type DayState } from './day-state.js';
import { formatDuration, formatPercent, formatTimestamp } from './format.js';
import { html, raw, type Raw } from './html-escape.js';
import type { HeldRunRow, PipelineReportRow, ProcessorReport, ReportKpis, ReportModel, RequestRow } from './report-model.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const VERDICT: Record<Verdict, { label: string; cls: string }> = {
  implement: { label: 'Implement smart-backfill', cls: 'v-implement' },
  monitor: { label: 'Borderline: monitor', cls: 'v-monitor' },
  not_needed: { label: 'Not needed yet', cls: 'v-not-needed' },
  unknown: { label: 'Unknown: could not measure', cls: 'v-unknown' },
};
const TICK: Record<ChecklistItem['status'], { mark: string; label: string }> = {
  passed: { mark: '☑', label: 'yes' },
  failed: { mark: '☐', label: 'no' },
  unknown: { mark: '?', label: 'unknown' },
};

const stateClass = (s: DayState): string => `s-${s.replace(/_/g, '-')}`;

const css = (): string => {
  const states = DAY_STATES.map((s) => {
    const st = DAY_STYLES[s];
    return `.${stateClass(s)}{background-color:${st.background};color:${st.foreground}}`;
  }).join('\n');
  return `
:root{color-scheme:light;--cell:20px;--gap:3px;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;color:#1a1a1a;background:#fff}
body{margin:0 auto;padding:24px 32px 48px;max-width:1600px;line-height:1.4}
h1{font-size:1.6rem;margin:0 0 4px}h2{font-size:1.25rem;margin:32px 0 8px}h3{font-size:1rem;margin:16px 0 6px}
.sub{color:#555;margin:0 0 20px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px;margin:0 0 20px;padding:0;list-style:none}
.kpi{border:1px solid #d0d0d0;border-radius:8px;padding:12px 14px}
.kpi .v{display:block;font-size:1.7rem;font-weight:700}.kpi .l{display:block;font-weight:600}.kpi .d{display:block;color:#555;font-size:.82rem}
.verdict{display:inline-block;border-radius:6px;padding:2px 10px;font-weight:700;border:2px solid #000}
.v-implement{background:#D55E00;color:#fff}.v-monitor{background:#F0E442;color:#000}.v-not-needed{background:#009E73;color:#fff}.v-unknown{background:#fff;color:#000;border-style:dashed}
.assess{border:1px solid #d0d0d0;border-radius:8px;padding:12px 16px;margin:8px 0 16px}
.assess ul{margin:6px 0;padding-left:20px}.checklist{list-style:none;padding-left:0!important}.checklist .m{display:inline-block;width:1.4em;font-weight:700}
.legend{display:flex;flex-wrap:wrap;gap:6px 16px;margin:8px 0 16px;padding:0;list-style:none;font-size:.9rem}
.legend li{display:flex;align-items:center;gap:6px}
.swatch,.day{width:var(--cell);height:var(--cell);border-radius:3px;box-sizing:border-box;display:inline-flex;align-items:center;justify-content:center;font-size:12px;line-height:1;font-family:"DejaVu Sans",system-ui,sans-serif}
.s-nothing-scheduled{border:1px solid #d6d6d6}.s-future{border:1px dashed #bbb}
.s-before-schedule{background-image:repeating-linear-gradient(135deg,#cfcfcf 0 1px,transparent 1px 6px)}
.s-healed-auto,.s-healed-manual,.s-healed-other{box-shadow:inset 0 0 0 2px #E69F00}
.s-missing{background-image:repeating-linear-gradient(45deg,rgba(0,0,0,.18) 0 2px,transparent 2px 5px)}
.s-failed{background-image:repeating-linear-gradient(-45deg,rgba(0,0,0,.25) 0 2px,transparent 2px 5px)}
${states}
.cal{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:14px 22px;margin:4px 0 8px;padding-bottom:4px}
.month h4{font-size:.85rem;font-weight:600;margin:0 0 4px;white-space:nowrap}
.mgrid{display:grid;grid-template-columns:repeat(7,minmax(0,1fr));gap:var(--gap)}
.mgrid .wd{font-size:10px;color:#555;text-align:center}
.mgrid .day,.mgrid .pad{width:auto;height:auto;aspect-ratio:1/1;font-size:13px}
.day{position:relative;cursor:default}
.day:focus{outline:3px solid #000;outline-offset:1px;z-index:5}
.pad{width:var(--cell);height:var(--cell)}
.tip{display:none;position:absolute;z-index:20;bottom:calc(100% + 8px);left:50%;transform:translateX(-50%);width:max-content;max-width:22rem;background:#111;color:#fff;border-radius:6px;padding:8px 10px;font:12px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;text-align:left;white-space:normal;box-shadow:0 2px 8px rgba(0,0,0,.35);pointer-events:none}
.tip b{font-weight:700}.tip .e{color:#ffb0a0;word-break:break-word}
.low .tip{bottom:auto;top:calc(100% + 8px)}
.left .tip{left:0;transform:none}.right .tip{left:auto;right:0;transform:none}
.day:hover .tip,.day:focus .tip{display:block}
.day.tip-off .tip{display:none}
.pk{color:#333;font-size:.9rem;margin:0 0 4px}
table{border-collapse:collapse;width:100%;font-size:.85rem;margin:6px 0 16px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e2e2e2;vertical-align:top}
th,td.nw{white-space:nowrap}
.tw{overflow-x:auto}
th{background:#f4f4f4;font-weight:600}td.err{color:#8a2a00;max-width:28rem;word-break:break-word}
.st{display:inline-flex;align-items:center;gap:4px}
.empty{color:#666;font-style:italic}
footer{margin-top:32px;color:#666;font-size:.8rem}
`;
};

// Roving tabindex: one tab stop per calendar, arrows move by day (left/right) and week (up/down),
// Escape hides the tooltip (WCAG 1.4.13). Without script every cell stays focusable.
const script = `
(function(){
  var cals=document.querySelectorAll('.cal');
  Array.prototype.forEach.call(cals,function(cal){
    var cells=Array.prototype.slice.call(cal.querySelectorAll('.day'));
    if(!cells.length)return;
    var cur=cells.length-1;
    var placeTip=function(c){var t=c.querySelector('.tip');if(!t)return;t.style.marginLeft='0px';var r=t.getBoundingClientRect();
      if(r.width===0)return;var dx=r.left<4?4-r.left:r.right>innerWidth-4?innerWidth-4-r.right:0;t.style.marginLeft=dx+'px';};
    cells.forEach(function(c,i){c.tabIndex=i===cur?0:-1;c.addEventListener('focus',function(){cells[cur].tabIndex=-1;cur=i;c.tabIndex=0;placeTip(c);});
      c.addEventListener('mouseenter',function(){placeTip(c);});
      c.addEventListener('blur',function(){c.classList.remove('tip-off');});c.addEventListener('mouseleave',function(){c.classList.remove('tip-off');});});
    cal.addEventListener('keydown',function(e){
      var step={ArrowLeft:-1,ArrowRight:1,ArrowUp:-7,ArrowDown:7,Home:-cur,End:cells.length-1-cur}[e.key];
      if(e.key==='Escape'){cells[cur].classList.add('tip-off');return;}
      if(step===undefined)return;
      var n=Math.max(0,Math.min(cells.length-1,cur+step));
      e.preventDefault();cells[n].focus();
    });
  });
})();
`;

const weekdayName = (d: IsoDate): string => WEEKDAYS[weekdayOf(d)] ?? '';

/** The tooltip's lines for one day: date, expectation, rows, request, alert. `labels` words the states (default: `DAY_STYLES`). */
export const cellDescription = (c: DayCell, labels?: Readonly<Record<DayState, string>>): string[] => {
  const label = (s: DayState): string => labels?.[s] ?? DAY_STYLES[s].label;
  const lines = [`${weekdayName(c.date)} ${c.date}: ${label(c.state)}`];
  lines.push(
    c.expected
      ? `expected: yes (scheduled); rows ${c.rows} of at least ${c.minRecordsPerDate}`
      : `expected: no (${label(c.state === 'before_schedule' ? 'before_schedule' : 'nothing_scheduled')}); rows ${c.rows}`,
  );
  const r = c.request;
  if (r !== null) {
    lines.push(
      `${r.requestType} backfill ${r.status}, attempt ${r.attempt}${c.requestCount > 1 ? ` (${c.requestCount} requests in all)` : ''}; requested ${formatTimestamp(r.requestedAt)}` +
        (r.startedAt !== null ? `, started ${formatTimestamp(r.startedAt)}` : '') +
        (r.completedAt !== null ? `, ${r.status === 'failed' ? 'failed' : 'finished'} ${formatTimestamp(r.completedAt)}` : ''),
    );
  }
  if (c.alert !== null) {
    lines.push(
      `alert (${c.alert.reason.replace(/_/g, ' ')}) opened ${formatTimestamp(c.alert.openedAt)}` +
        (c.alert.resolvedAt !== null ? `, healed ${formatTimestamp(c.alert.resolvedAt)}` : ', still open'),
    );
  }
  const error =
    r?.status === 'failed' && r.errorMessage !== null ? r.errorMessage : c.alert?.resolvedAt === null ? c.alert.lastError : null;
  if (error !== null && error !== undefined) lines.push(`error: ${error}`);
  return lines;
};

const cellHtml = (c: DayCell, id: string, weekRow: number, labels: Readonly<Record<DayState, string>>): Raw => {
  const st = DAY_STYLES[c.state];
  const lines = cellDescription(c, labels);
  // A tooltip opens above its day, below it in a month's first week (the month's title is there);
  // the script keeps it inside the window sideways.
  const pos = [weekRow === 0 ? 'low' : '', c.weekday < 2 ? 'left' : c.weekday > 4 ? 'right' : ''].filter((x) => x !== '').join(' ');
  return html`<div class="day ${raw(stateClass(c.state))}${raw(pos === '' ? '' : ` ${pos}`)}" data-state="${c.state}" data-date="${c.date}" tabindex="0" role="img" aria-label="${`${c.date}: ${labels[c.state]}`}" aria-describedby="${id}"><span aria-hidden="true">${st.symbol}</span><span class="tip" role="tooltip" id="${id}">${lines.map((l, i) => (i === 0 ? html`<b>${l}</b>` : l.startsWith('error: ') ? html`<br><span class="e">${l}</span>` : html`<br>${l}`))}</span></div>`;
};

/**
 * A grid of months (weeks as rows, Monday first) that fills the page's width:
 * as many months side by side as fit. The days stay in date order in the
 * document, so the keyboard moves by day and week across month boundaries.
 */
const calendarHtml = (cal: CalendarModel, index: number, labels: Readonly<Record<DayState, string>>): Raw => {
  const byMonth = new Map<string, DayCell[]>();
  for (const d of cal.days) {
    const m = d.date.slice(0, 7);
    const l = byMonth.get(m);
    if (l === undefined) byMonth.set(m, [d]);
    else l.push(d);
  }
  const months = [...byMonth.entries()].map(([m, days]) => {
    const lead = (days[0] as DayCell).weekday;
    const cells: Raw[] = WEEKDAYS.map((w) => html`<span class="wd" aria-hidden="true">${w.slice(0, 2)}</span>`);
    for (let i = 0; i < lead; i++) cells.push(raw('<span class="pad" aria-hidden="true"></span>'));
    days.forEach((d, i) => cells.push(cellHtml(d, `tip-${index}-${d.date}`, Math.floor((lead + i) / 7), labels)));
    const title = `${MONTHS[Number(m.slice(5, 7)) - 1] ?? ''} ${m.slice(0, 4)}`;
    return html`<div class="month" data-month="${m}"><h4>${title}</h4><div class="mgrid">${cells}</div></div>`;
  });
  return html`<div class="cal" role="group" aria-label="${`Calendar of ${cal.processorName}, ${cal.start} to ${cal.end}; arrow keys move between days`}" data-processor="${cal.processorName}">${months}</div>`;
};

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** "over 3 healed gaps": what a time-to-recovery figure is the median of. */
export const recoveryBasis = (k: Pick<ReportKpis, 'recoveredGaps'>): string => `over ${plural(k.recoveredGaps, 'healed gap')}`;

const kpiTiles = (k: ReportKpis): Raw => {
  const tile = (value: string, label: string, detail: string, key: string): Raw =>
    html`<li class="kpi" data-kpi="${key}"><span class="v">${value}</span><span class="l">${label}</span><span class="d">${detail}</span></li>`;
  const waiting = k.detectedGaps - k.recoveredGaps;
  return html`<ul class="kpis" aria-label="Key figures">${[
    tile(String(k.gaps), 'Gap dates', 'scheduled dates up to yesterday that lacked enough rows at some point', 'gaps'),
    tile(String(k.healedAutomatically), 'Healed automatically', 'gap dates filled by an automatic backfill', 'healed'),
    tile(
      String(k.healedManually),
      'Healed by a person',
      `gap dates filled by a manual backfill${k.healedOtherwise > 0 ? `; ${k.healedOtherwise} more filled without a backfill` : ''}`,
      'healed-manual',
    ),
    tile(String(k.open), 'Still open', 'gap dates not complete today', 'open'),
    tile(
      formatDuration(k.medianTimeToRecoveryMs),
      `Median time to recovery ${recoveryBasis(k)}`,
      `${k.timesToRecoveryMs.length > 0 ? `${k.timesToRecoveryMs.map((ms) => formatDuration(ms)).join(', ')}: ` : ''}from the first check that found a gap to its data whole and its held runs done${waiting > 0 ? `; ${plural(waiting, 'gap')} not healed yet` : ''}`,
      'ttr',
    ),
    tile(
      formatPercent(k.successRate, 0),
      'Backfill success rate',
      `completed of ${plural(k.finishedBackfills, 'finished backfill')}`,
      'success',
    ),
  ]}</ul>`;
};

const assessmentHtml = (name: string, a: Assessment | null, steps: readonly string[]): Raw => {
  if (a === null) return raw('');
  const v = VERDICT[a.verdict];
  return html`<div class="assess" data-verdict="${a.verdict}"><p><span class="verdict ${raw(v.cls)}">${v.label}</span> <span>for ${name}: is smart-backfill needed? (the seed's three checks)</span></p><ul>${[
    ...a.reasons,
    ...a.unknownBecause.map((u) => `because ${u}`),
  ].map(
    (r) => html`<li>${r}</li>`,
  )}</ul><h3>Decision checklist (${a.checklistVerdict === 'proceed' ? 'all ticked: proceed' : "not all ticked: don't implement yet"})</h3><ul class="checklist">${a.checklist.map(
    (c) =>
      html`<li data-status="${c.status}"><span class="m" aria-label="${TICK[c.status].label}">${TICK[c.status].mark}</span>${c.label}: ${c.detail}</li>`,
  )}</ul>${steps.length > 0 ? html`<h3>Next steps</h3><ul>${steps.map((s) => html`<li>${s}</li>`)}</ul>` : ''}</div>`;
};

const legendHtml = (counts: Record<DayState, number>, labels: Readonly<Record<DayState, string>>): Raw =>
  html`<ul class="legend" aria-label="Legend">${DAY_STATES.map((s) => {
    const st = DAY_STYLES[s];
    return html`<li data-legend="${s}" data-count="${counts[s]}"><span class="swatch ${raw(stateClass(s))}" aria-hidden="true">${st.symbol}</span><span title="${st.meaning}">${labels[s]} (${counts[s]})</span></li>`;
  })}</ul>`;

const requestsTable = (rows: readonly RequestRow[]): Raw =>
  rows.length === 0
    ? raw('<p class="empty">No backfill requests for these dates.</p>')
    : html`<div class="tw"><table><caption class="empty" style="caption-side:bottom;text-align:left">Newest first. Duration: the last attempt.</caption><thead><tr><th scope="col">Processor</th><th scope="col">Date</th><th scope="col">Type</th><th scope="col">Status</th><th scope="col">Attempt</th><th scope="col">Requested</th><th scope="col">By</th><th scope="col">Started</th><th scope="col">Finished</th><th scope="col">Duration</th><th scope="col">Error</th></tr></thead><tbody>${rows.map(
        (r) => {
          const s: DayState = r.status === 'completed' ? 'complete' : r.status;
          return html`<tr data-request-status="${r.status}"><td>${r.processorName}</td><td class="nw" data-col="date">${r.date}</td><td>${r.requestType}</td><td class="nw"><span class="st"><span class="swatch ${raw(stateClass(s))}" aria-hidden="true">${DAY_STYLES[s].symbol}</span>${r.status}</span></td><td>${r.attempt}</td><td class="nw" data-col="date">${formatTimestamp(r.requestedAt)}</td><td>${r.requestedBy}</td><td class="nw" data-col="date">${formatTimestamp(r.startedAt)}</td><td class="nw" data-col="date">${formatTimestamp(r.completedAt)}</td><td class="nw">${r.startedAt !== null && r.completedAt !== null ? formatDuration(r.completedAt - r.startedAt) : '–'}</td><td class="err">${r.errorMessage ?? ''}</td></tr>`;
        },
      )}</tbody></table></div>`;

/** `raw_orders 2025-11-04 (backfill queued)`: one upstream gap that holds a run. */
const describeGap = (g: UpstreamGap): string =>
  `${g.processor} ${g.missing.join(', ')} (${g.escalated.length > 0 ? 'escalated: a person must fill it' : g.queued.length > 0 ? 'backfill queued' : 'in flight'})`;

const describeHold = (gaps: readonly UpstreamGap[] | null): string =>
  gaps === null ? 'its inputs (no run record names which)' : gaps.map(describeGap).join('; ');

const reads = (d: Dependency): string =>
  `${d.processor} (${d.lookbackDays === 0 ? 'same day' : `${d.lookbackDays} day${d.lookbackDays === 1 ? '' : 's'} back`})`;

/** One row per processor in dependency order: level, what it reads, and which upstream gap holds which of its runs. */
const pipelineTable = (rows: readonly PipelineReportRow[]): Raw =>
  html`<h2>Pipeline</h2><p class="sub">One row per processor, every processor after all it reads (by level, then name). A run held for its inputs names the upstream gap it waits for.</p><div class="tw"><table class="pipeline"><thead><tr><th scope="col">Level</th><th scope="col">Processor</th><th scope="col">Reads</th><th scope="col">Runs held for an upstream gap</th></tr></thead><tbody>${rows.map(
    (r) =>
      html`<tr data-pipeline-row="${r.processor}" data-level="${String(r.level)}"><td>${String(r.level)}</td><td>${r.processor}</td><td>${r.dependsOn.length === 0 ? 'no other processor' : r.dependsOn.map(reads).join(', ')}</td><td>${r.heldForInputs.length === 0 ? '–' : r.heldForInputs.map((h, i) => html`${i === 0 ? '' : raw('<br>')}<span data-held-for="${h.runDate}">${h.runDate} waits for ${describeHold(h.gaps)}</span>`)}</td></tr>`,
  )}</tbody></table></div>`;

const heldTable = (rows: readonly HeldRunRow[]): Raw =>
  rows.length === 0
    ? raw('<p class="empty">No runs were held.</p>')
    : html`<div class="tw"><table><thead><tr><th scope="col">Processor</th><th scope="col">Run date</th><th scope="col">Status</th><th scope="col">Reason</th><th scope="col">Waiting for</th><th scope="col">Held at</th><th scope="col">Released</th><th scope="col">Held for</th></tr></thead><tbody>${rows.map(
        (h) =>
          html`<tr data-held-status="${h.status}"><td>${h.processorName}</td><td class="nw" data-col="date">${h.runDate}</td><td>${h.status}</td><td>${h.reason.replace(/_/g, ' ')}</td><td>${h.waitingForUpstream === undefined ? h.waitingFor.join(', ') : describeHold(h.waitingForUpstream)}</td><td class="nw" data-col="date">${formatTimestamp(h.heldAt)}</td><td class="nw" data-col="date">${formatTimestamp(h.releasedAt)}</td><td class="nw">${h.releasedAt !== null ? formatDuration(h.releasedAt - h.heldAt) : 'still held'}</td></tr>`,
      )}</tbody></table></div>`;

const processorHtml = (p: ProcessorReport, i: number, labels: Readonly<Record<DayState, string>>): Raw => {
  const cal = p.calendar;
  const k = p.kpis;
  return html`<section class="processor" data-processor="${cal.processorName}" aria-labelledby="${`p-${i}`}"><h2 id="${`p-${i}`}">${cal.processorName}</h2><p class="pk">${cal.start} to ${cal.end} · at least ${cal.minRecordsPerDate} rows per scheduled date · ${plural(k.gaps, 'gap date')}: ${k.healedAutomatically} healed automatically, ${k.healedManually} by a person, ${k.open} open · median time to recovery ${formatDuration(k.medianTimeToRecoveryMs)} ${recoveryBasis(k)} · backfill success ${formatPercent(k.successRate, 0)} of ${plural(k.finishedBackfills, 'finished backfill')}</p>${calendarHtml(cal, i, labels)}${assessmentHtml(cal.processorName, p.assessment, p.nextSteps)}</section>`;
};

/**
 * One self-contained HTML page: inline CSS and a few lines of inline script, no
 * network (a Content-Security-Policy forbids it), no external fonts. Every value
 * from the model is escaped.
 */
export const renderReportHtml = (model: ReportModel): string => {
  const counts = Object.fromEntries(DAY_STATES.map((s) => [s, 0])) as Record<DayState, number>;
  for (const p of model.processors) for (const s of DAY_STATES) counts[s] += p.calendar.counts[s];
  const verdicts = model.processors.filter((p) => p.assessment !== null);
  const body = html`<header><h1>${model.title}</h1><p class="sub">${model.start} to ${model.end} · ${model.processors.length} processor(s) · generated ${formatTimestamp(model.generatedAt)}</p></header><main>${kpiTiles(
    model.kpis,
  )}${
    verdicts.length > 0
      ? html`<p class="verdicts">${verdicts.map((p) => {
          const a = p.assessment as Assessment;
          return html`<span class="verdict ${raw(VERDICT[a.verdict].cls)}" data-verdict-for="${p.calendar.processorName}">${p.calendar.processorName}: ${VERDICT[a.verdict].label}</span> `;
        })}</p>`
      : ''
  }${model.pipeline.length > 0 ? pipelineTable(model.pipeline) : ''}<h2>Calendar</h2><p class="sub">One cell per day, a week per row, Monday first. Days with an orange ring were missing once and are whole again. Hover or focus a day for its details; colour and symbol both tell the state.</p>${legendHtml(counts, model.stateLabels)}${model.processors.map((p, i) => processorHtml(p, i, model.stateLabels))}<h2>Recent backfill requests</h2>${requestsTable(model.recentRequests)}<h2>Held runs</h2>${heldTable(
    model.heldRuns,
  )}</main><footer>smart-backfill · this file is self-contained: it loads nothing from the network.</footer>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${html`${model.title} · ${model.start} to ${model.end}`.__html}</title>
<style>${css()}</style>
</head>
<body>
${body.__html}
<script>${script}</script>
</body>
</html>
`;
};
