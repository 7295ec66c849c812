// 账务: how each payment gateway is doing right now (its circuit breaker, success rate and
// latency in this instance), and 对账: each day's statement from every gateway matched against
// our payments and refunds, with every mismatch listed, resolved with a note, or exported as a
// CSV for the accountant. Reconciling is for owners and managers of the whole brand; others
// see the gateways only.

import { h, mount } from '../shared/dom.js';
import { get, post } from '../shared/api.js';
import { lang } from '../shared/i18n.js';
import { yuan } from '../shared/money.js';
import { t } from './strings.js';
import { busy, explain, field, input, modal, notice, toast } from './ui.js';
import { breakerTone, defaultStatementDate, successRate } from './finance-logic.js';

const PROVIDERS = ['wechat_pay', 'alipay'];
const REFRESH_MS = 15_000;

export function financePage(main, { store, onUnauthorized }) {
  const page = { main, store, onUnauthorized, health: [], runs: null, runsError: null, open: null, timer: null };
  mount(main, notice(t('loading')));
  load(page).then(() => {
    page.timer = setInterval(() => {
      if (!main.isConnected) return clearInterval(page.timer);
      if (!document.querySelector('dialog[open]')) loadHealth(page);
    }, REFRESH_MS);
  });
}

async function load(page) {
  try {
    const [health, runs] = await Promise.all([
      get('console/payments/health'),
      get('console/reconciliation/runs').catch((e) => {
        if (e.status === 403) return null;
        throw e;
      }),
    ]);
    Object.assign(page, { health, runs });
    render(page);
  } catch (e) {
    if (e.status === 401) return page.onUnauthorized();
    mount(page.main, notice(t('load_failed', { message: explain(e) }), { kind: 'error', retry: () => load(page) }));
  }
}

async function loadHealth(page) {
  try {
    page.health = await get('console/payments/health');
    const box = page.main.querySelector('.gateway-grid');
    if (box) box.replaceWith(gatewayGrid(page));
  } catch (e) {
    if (e.status === 401) page.onUnauthorized();
  }
}

const when = (ms) =>
  new Date(ms).toLocaleString(lang() === 'en' ? 'en-GB' : 'zh-CN', { month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false });
const amount = (fen) => (fen === null || fen === undefined ? '—' : yuan(fen));

function render(page) {
  mount(
    page.main,
    h(
      'div.finance-page',
      {},
      h('header.page-head', {}, h('h1', {}, t('finance_title'))),
      h('section.card.gateways', {}, h('h2', {}, t('gateways_title')), h('p.hint', {}, t('gateways_hint')), gatewayGrid(page)),
      h('section.card.reconciliation', {}, h('h2', {}, t('reconcile_title')), reconciliation(page)),
    ),
  );
}

function gatewayGrid(page) {
  if (!page.health.length) return h('div.gateway-grid', {}, h('p.muted', {}, t('no_gateways')));
  return h('div.gateway-grid', {}, page.health.map((g) => {
    const tone = breakerTone(g.breaker);
    return h(`article.gateway.${tone}`, { dataset: { provider: g.provider, breaker: g.breaker } },
      h('header.gateway-head', {}, h('h3', {}, t('provider_' + g.provider)), h('span.spacer'),
        h(`span.badge${tone === 'ok' ? '' : '.alert'}`, {}, t('breaker_' + g.breaker))),
      h('dl.gateway-figures', {},
        h('dt', {}, t('success_rate')), h('dd', {}, successRate(g.success_rate_bp) ?? '—'),
        h('dt', {}, t('latency')), h('dd', {}, g.p50_ms === null ? '—' : `p50 ${g.p50_ms} ms · p95 ${g.p95_ms} ms · p99 ${g.p99_ms} ms`),
        h('dt', {}, t('recent_calls')), h('dd', {}, String(g.calls)),
        h('dt', {}, t('failures_in_row')), h('dd', {}, String(g.consecutive_failures))),
      g.opened_at_ms ? h('p.error', {}, t('breaker_opened_at', { time: when(g.opened_at_ms) })) : null);
  }));
}

function reconciliation(page) {
  if (page.runs === null) return h('p.muted', {}, t('reconcile_forbidden'));
  const provider = h('select', { name: 'provider', 'aria-label': t('gateway') },
    PROVIDERS.map((p) => h('option', { value: p }, t('provider_' + p))));
  const date = input({ type: 'date', name: 'date', value: defaultStatementDate(Date.now()), max: defaultStatementDate(Date.now()) });
  const start = h('button.primary', { type: 'button', dataset: { action: 'start-run' }, onclick: async () => {
    try {
      const run = await busy(start, () => post('console/reconciliation/runs', { provider: provider.value, date: date.value }), t('reconciling'));
      toast(run.state === 'failed' ? t('run_failed_toast', { error: run.error || '' }) : t('run_done', { count: run.mismatches }), run.state === 'failed' ? 'error' : 'success');
      page.runs = await get('console/reconciliation/runs');
      page.open = { run, mismatches: null };
      render(page);
      openRun(page, run);
    } catch (e) {
      if (e.status === 401) return page.onUnauthorized();
      toast(explain(e), 'error');
    }
  } }, t('start_run'));
  return h('div.reconcile', {},
    h('div.run-form', {}, field(t('gateway'), provider), field(t('statement_date'), date), start),
    page.runs.length ? runsTable(page) : h('p.muted', {}, t('no_runs')),
    page.open ? mismatchesPanel(page) : null);
}

function runsTable(page) {
  return h('table.jobs.runs', {},
    h('thead', {}, h('tr', {}, ['statement_date', 'gateway', 'run_state', 'run_checked', 'run_mismatches', 'run_by', ''].map((k) => h('th', {}, k ? t(k) : '')))),
    h('tbody', {}, page.runs.map((run) =>
      h(`tr.run-${run.state}${page.open?.run.id === run.id ? '.selected' : ''}`, { dataset: { runId: run.id, state: run.state } },
        h('td', {}, run.date),
        h('td', {}, t('provider_' + run.provider)),
        h('td', {}, t('run_' + run.state), run.error ? h('span.error', {}, ` ${run.error}`) : null),
        h('td', {}, t('run_counts', { lines: run.statement_lines, payments: run.payments_checked, refunds: run.refunds_checked })),
        h('td', {}, run.mismatches ? h('span.badge.alert', {}, String(run.mismatches)) : h('span.muted', {}, '0')),
        h('td.muted', {}, `${run.started_by} · ${when(run.started_at_ms)}`),
        h('td', {}, h('button.ghost.small', { type: 'button', dataset: { action: 'open-run' }, onclick: () => openRun(page, run) }, t('view')))))));
}

async function openRun(page, run) {
  try {
    page.open = await get(`console/reconciliation/runs/${run.id}/mismatches`);
    render(page);
    page.main.querySelector('.mismatches')?.scrollIntoView({ block: 'nearest' });
  } catch (e) {
    if (e.status === 401) return page.onUnauthorized();
    toast(explain(e), 'error');
  }
}

function mismatchesPanel(page) {
  const { run, mismatches } = page.open;
  if (!mismatches) return null;
  const csv = `/api/v1/console/reconciliation/runs/${run.id}/mismatches.csv`;
  return h('div.mismatches', { dataset: { runId: run.id } },
    h('header.page-head', {}, h('h3', {}, t('mismatches_of', { date: run.date, gateway: t('provider_' + run.provider) })), h('span.spacer'),
      h('a.button.secondary.small', { href: csv, download: '', dataset: { action: 'export-csv' } }, t('export_csv'))),
    mismatches.length
      ? h('table.jobs', {},
          h('thead', {}, h('tr', {}, ['mismatch_kind', 'trade_no', 'our_amount', 'their_amount', 'mismatch_note', ''].map((k) => h('th', {}, k ? t(k) : '')))),
          h('tbody', {}, mismatches.map((m) =>
            h(`tr${m.resolved_at_ms ? '.resolved' : ''}`, { dataset: { mismatchId: m.id, kind: m.kind } },
              h('td', {}, lang() === 'en' ? t('kind_' + m.kind) : m.kind_zh),
              h('td.mono', {}, m.out_trade_no, m.out_refund_no ? h('span.muted', {}, ` / ${m.out_refund_no}`) : null),
              h('td', {}, amount(m.our_amount_fen)),
              h('td', {}, amount(m.their_amount_fen)),
              h('td', {}, m.note),
              h('td', {}, m.resolved_at_ms
                ? h('span.muted', {}, t('resolved_by', { who: m.resolved_by, note: m.resolution_note }))
                : h('button.secondary.small', { type: 'button', dataset: { action: 'resolve' }, onclick: () => resolve(page, m) }, t('resolve')))))))
      : h('p.muted', {}, t('no_mismatches')));
}

function resolve(page, mismatch) {
  const note = h('textarea', { name: 'note', maxlength: 200, rows: 3, required: true, placeholder: t('resolve_placeholder') });
  const error = h('p.error', { role: 'alert', hidden: true });
  const save = h('button.primary', { type: 'button', dataset: { action: 'save-resolution' }, onclick: async () => {
    if (!note.value.trim()) {
      error.hidden = false;
      error.textContent = t('resolve_needs_note');
      return;
    }
    try {
      await busy(save, () => post(`console/reconciliation/mismatches/${mismatch.id}/resolve`, { note: note.value.trim() }));
      close();
      toast(t('saved'));
      openRun(page, page.open.run);
    } catch (e) {
      if (e.status === 401) return page.onUnauthorized();
      error.hidden = false;
      error.textContent = explain(e);
    }
  } }, t('save'));
  const { close } = modal(t('resolve_title', { trade: mismatch.out_trade_no }), h('div.form-fields', {},
    h('p', {}, mismatch.note),
    field(t('resolution_note'), note),
    error,
  ), { actions: [h('button.secondary', { type: 'button', onclick: () => close() }, t('cancel')), save] });
  note.focus();
}
