// 后厨与打印: each station's prep-time target (when its tickets turn amber and red on the
// kitchen screens), then the store's printers (how each is reached, paper width, which stations' tickets it
// prints, its fallback while it is off), whether each is up now, a test print, and today's
// print jobs with 重打 for any of them. Jobs and printer alerts follow the print queue; the
// page reads them again after each action and every 10 s while it is open.

import { h, mount } from '../shared/dom.js';
import { get, post, put } from '../shared/api.js';
import { lang } from '../shared/i18n.js';
import { t } from './strings.js';
import { busy, explain, field, input, modal, notice, toast, toggle } from './ui.js';

const REFRESH_MS = 10_000;
const CONNECTIONS = ['tcp', 'agent', 'feie'];

export function printersPage(main, { store, onUnauthorized }) {
  if (!store) return mount(main, notice(t('no_store')));
  const page = { main, store, onUnauthorized, printers: [], stations: [], targets: [], jobs: [], timer: null };
  mount(main, notice(t('loading')));
  load(page).then(() => {
    page.timer = setInterval(() => {
      if (!main.isConnected) return clearInterval(page.timer);
      if (!document.querySelector('dialog[open]')) load(page, { quiet: true });
    }, REFRESH_MS);
  });
}

async function load(page, { quiet = false } = {}) {
  try {
    const [printers, catalog, jobs, targets] = await Promise.all([
      get(`console/stores/${page.store.id}/printers`),
      get('console/menu'),
      get(`console/stores/${page.store.id}/print-jobs`),
      get('console/kitchen/stations'),
    ]);
    Object.assign(page, { printers, stations: catalog.stations || [], jobs, targets });
    render(page);
  } catch (e) {
    if (e.status === 401) return page.onUnauthorized();
    if (!quiet) mount(page.main, notice(t('load_failed', { message: explain(e) }), { kind: 'error', retry: () => load(page) }));
  }
}

const hhmm = (ms) => new Date(ms).toLocaleTimeString(lang() === 'en' ? 'en-GB' : 'zh-CN', { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
const stationName = (page, id) => page.stations.find((s) => s.id === id)?.name ?? '—';
const printerName = (page, id) => page.printers.find((p) => p.id === id)?.name ?? '—';

function render(page) {
  mount(
    page.main,
    h(
      'div.printers-page',
      {},
      h('header.page-head', {}, h('h1', {}, t('printers_title')), h('span.muted', {}, page.store.name), h('div.spacer'),
        h('button.primary', { type: 'button', dataset: { action: 'add-printer' }, onclick: () => editPrinter(page, null) }, t('add_printer'))),
      h('section.card.prep-targets', {}, h('h2', {}, t('prep_title')), h('p.hint', {}, t('prep_hint')), prepTable(page)),
      page.printers.length ? h('div.printer-grid', {}, page.printers.map((p) => printerCard(page, p))) : notice(t('no_printers')),
      h('section.card.print-jobs', {}, h('h2', {}, t('print_jobs_today')), jobsTable(page)),
    ),
  );
}

const minutes = (secs) => String(Math.round((secs / 60) * 10) / 10);

function prepTable(page) {
  if (!page.targets.length) return h('p.muted', {}, t('no_stations'));
  return h('table.jobs.prep', {},
    h('thead', {}, h('tr', {}, ['station', 'prep_target', 'prep_amber', 'prep_red', ''].map((k) => h('th', {}, k ? t(k) : '')))),
    h('tbody', {}, page.targets.map((target) => {
      const box = (value, name) => h('input.minutes', { type: 'number', min: 1, max: 240, step: 0.5, inputmode: 'decimal', name, value: minutes(value), 'aria-label': t(name) });
      const fields = { prep_target: box(target.target_secs, 'prep_target'), prep_amber: box(target.amber_after_secs, 'prep_amber'), prep_red: box(target.red_after_secs, 'prep_red') };
      const save = h('button.secondary.small', { type: 'button', dataset: { action: 'save-prep' }, onclick: async () => {
        const secs = (input) => Math.round(Number(input.value) * 60);
        try {
          await busy(save, () => put(`console/kitchen/stations/${target.station_id}/prep`, {
            target_secs: secs(fields.prep_target), amber_after_secs: secs(fields.prep_amber), red_after_secs: secs(fields.prep_red),
          }));
          toast(t('saved'));
        } catch (e) {
          if (e.status === 401) return page.onUnauthorized();
          toast(explain(e), 'error');
        }
      } }, t('save'));
      return h('tr', { dataset: { stationId: target.station_id } }, h('td', {}, target.name),
        h('td', {}, fields.prep_target), h('td', {}, fields.prep_amber), h('td', {}, fields.prep_red), h('td', {}, save));
    })));
}

function printerCard(page, p) {
  const down = p.status === 'down';
  return h(
    `article.card.printer-card${down ? '.down' : ''}${p.enabled ? '' : '.disabled'}`,
    { dataset: { printerId: p.id, status: p.status } },
    h('header.printer-head', {}, h('h3', {}, p.name), h('span.spacer'),
      h(`span.badge${down ? '.alert' : ''}`, {}, p.enabled ? t('printer_' + p.status) : t('printer_disabled'))),
    h('p.muted', {}, `${t('conn_' + p.connection)} · ${p.address} · ${p.paper_mm} mm`),
    h('p', {}, t('printer_prints', {
      what: [
        ...p.stations.map((s) => stationName(page, s)),
        p.takes_receipts ? t('doc_receipt') : null,
        p.takes_packing_slips ? t('doc_packing_slip') : null,
      ].filter(Boolean).join('、') || t('nothing'),
    })),
    p.fallback_id ? h('p.muted', {}, t('printer_fallback', { name: printerName(page, p.fallback_id) })) : null,
    down && p.last_error ? h('p.error', {}, p.down_since_ms ? t('printer_down_since', { time: hhmm(p.down_since_ms), error: p.last_error }) : p.last_error) : null,
    h('div.printer-actions', {},
      h('button.secondary.small', { type: 'button', dataset: { action: 'test-print' }, onclick: (e) => testPrint(page, p, e.currentTarget) }, t('test_print')),
      h('button.ghost.small', { type: 'button', dataset: { action: 'edit-printer' }, onclick: () => editPrinter(page, p) }, t('edit'))),
  );
}

async function testPrint(page, printer, button) {
  try {
    await busy(button, () => post(`console/stores/${page.store.id}/printers/${printer.id}/test`));
    toast(t('test_print_queued', { name: printer.name }));
    load(page, { quiet: true });
  } catch (e) {
    if (e.status === 401) return page.onUnauthorized();
    toast(explain(e), 'error');
  }
}

function jobsTable(page) {
  if (!page.jobs.length) return h('p.muted', {}, t('no_print_jobs'));
  return h('table.jobs', {},
    h('thead', {}, h('tr', {}, ['job_time', 'job_document', 'job_printer', 'job_state', ''].map((k) => h('th', {}, k ? t(k) : '')))),
    h('tbody', {}, page.jobs.map((job) =>
      h(`tr.job-${job.state}`, { dataset: { jobId: String(job.id), state: job.state } },
        h('td', {}, hhmm(job.created_at_ms)),
        h('td', {}, [t('doc_' + job.document), job.label, job.station].filter(Boolean).join(' · '), job.says_reprint ? h('span.badge.muted', {}, '重打') : null),
        h('td', {}, printerName(page, job.routed_printer_id), job.routed_printer_id !== job.printer_id ? h('span.muted', {}, ` (${t('via_fallback')})`) : null),
        h('td', {}, t('job_' + job.state), job.last_error && job.state !== 'printed' ? h('span.error', {}, ` ${job.last_error}`) : null),
        h('td', {}, h('button.ghost.small', { type: 'button', dataset: { action: 'reprint' }, onclick: (e) => reprint(page, job, e.currentTarget) }, t('reprint')))))));
}

async function reprint(page, job, button) {
  try {
    await busy(button, () => post(`console/stores/${page.store.id}/print-jobs/${job.id}/reprint`));
    toast(t('reprint_queued'));
    load(page, { quiet: true });
  } catch (e) {
    if (e.status === 401) return page.onUnauthorized();
    toast(explain(e), 'error');
  }
}

/** The printer form: add (printer null) or edit; server field errors land under their inputs. */
function editPrinter(page, printer) {
  const form = {
    name: printer?.name ?? '',
    connection: printer?.connection ?? 'tcp',
    address: printer?.address ?? '',
    paper_mm: printer?.paper_mm ?? 80,
    fallback_id: printer?.fallback_id ?? null,
    stations: [...(printer?.stations ?? [])],
    takes_receipts: printer?.takes_receipts ?? false,
    takes_packing_slips: printer?.takes_packing_slips ?? false,
    enabled: printer?.enabled ?? true,
  };
  const errors = h('p.error', { role: 'alert', hidden: true });
  const name = input({ name: 'name', maxlength: 60, value: form.name, required: true, oninput: (e) => (form.name = e.target.value) });
  const address = input({ name: 'address', maxlength: 100, value: form.address, placeholder: '192.168.1.50:9100', oninput: (e) => (form.address = e.target.value) });
  const connection = h('select', { name: 'connection', onchange: (e) => (form.connection = e.target.value) },
    CONNECTIONS.map((c) => h('option', { value: c, selected: c === form.connection }, t('conn_' + c))));
  const paper = h('select', { name: 'paper_mm', onchange: (e) => (form.paper_mm = Number(e.target.value)) },
    [58, 80].map((mm) => h('option', { value: String(mm), selected: mm === form.paper_mm }, `${mm} mm`)));
  const fallback = h('select', { name: 'fallback_id', onchange: (e) => (form.fallback_id = e.target.value || null) },
    h('option', { value: '' }, t('no_fallback')),
    page.printers.filter((p) => p.id !== printer?.id).map((p) => h('option', { value: p.id, selected: p.id === form.fallback_id }, p.name)));
  const stations = h('div.station-choices', {}, page.stations.map((s) =>
    toggle({ checked: form.stations.includes(s.id), name: `station_${s.id}`, label: s.name, onchange: (e) => {
      form.stations = e.target.checked ? [...form.stations, s.id] : form.stations.filter((x) => x !== s.id);
    } })));
  const save = h('button.primary', { type: 'button', dataset: { action: 'save-printer' }, onclick: async () => {
    try {
      const path = printer ? `console/stores/${page.store.id}/printers/${printer.id}` : `console/stores/${page.store.id}/printers`;
      await busy(save, () => (printer ? put(path, form) : post(path, form)));
      close();
      toast(t('saved'));
      load(page, { quiet: true });
    } catch (e) {
      if (e.status === 401) return page.onUnauthorized();
      errors.hidden = false;
      errors.textContent = e.details?.map((d) => `${d.field}: ${d.text}`).join('；') || explain(e);
    }
  } }, t('save'));
  const { close } = modal(printer ? t('edit_printer', { name: printer.name }) : t('add_printer'), h('div.form-fields', {},
    field(t('printer_name'), name),
    h('div.grid-2', {}, field(t('printer_connection'), connection), field(t('paper_width'), paper)),
    field(t('printer_address'), address, { hint: t('printer_address_hint') }),
    h('fieldset.field', {}, h('legend.label', {}, t('printer_stations')), stations),
    toggle({ checked: form.takes_receipts, name: 'takes_receipts', label: t('doc_receipt'), onchange: (e) => (form.takes_receipts = e.target.checked) }),
    toggle({ checked: form.takes_packing_slips, name: 'takes_packing_slips', label: t('doc_packing_slip'), onchange: (e) => (form.takes_packing_slips = e.target.checked) }),
    field(t('printer_fallback_label'), fallback, { hint: t('fallback_hint') }),
    toggle({ checked: form.enabled, name: 'enabled', label: t('printer_enabled'), onchange: (e) => (form.enabled = e.target.checked) }),
    errors,
  ), { actions: [h('button.secondary', { type: 'button', onclick: () => close() }, t('cancel')), save] });
  name.focus();
}
