// /console/tables/print: every table's QR code as a card to cut out and put on the table,
// six to an A4 page (2 × 3). On screen the pages are drawn as sheets with a small toolbar; on
// paper only the cards are printed.

import { h, mount } from '../shared/dom.js';
import { get } from '../shared/api.js';
import { t } from './strings.js';
import { explain, notice } from './ui.js';
import { byOrder } from './dish-form.js';
import { byCode } from './tables.js';

export const PER_PAGE = 6;

/** Splits a list into pages of `size`. */
export const paginate = (items, size = PER_PAGE) => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));

export function qrSheetPage(root, { store, onBack, onUnauthorized }) {
  document.body.classList.add('print-view');
  const back = h('button.secondary', { type: 'button', dataset: { action: 'back-to-tables' }, onclick: () => { document.body.classList.remove('print-view'); onBack(); } }, '← ' + t('back_to_tables'));
  const toolbar = h(
    'header.print-toolbar',
    {},
    back,
    h('div', {}, h('h1', {}, `${t('qr_sheet_title')} · ${store?.name ?? ''}`), h('p.muted', {}, t('qr_sheet_hint'))),
    h('div.spacer'),
    h('button.primary', { type: 'button', dataset: { action: 'print' }, onclick: () => window.print() }, t('print')),
  );
  const body = h('div.sheets', {}, notice(t('loading')));
  mount(root, h('div.print-page', {}, toolbar, body));
  if (!store) return mount(body, notice(t('no_store')));
  load();

  async function load() {
    try {
      const plan = await get(`console/stores/${store.id}/tables`);
      const areas = [...plan.areas].sort(byOrder);
      const tables = areas.flatMap((area) => plan.tables.filter((x) => x.area_id === area.id).sort(byCode).map((table) => ({ table, area })));
      if (!tables.length) return mount(body, notice(t('no_areas')));
      mount(body, paginate(tables).map((cards, i) => h('section.sheet', { 'aria-label': `${i + 1}` }, cards.map((c) => qrCard(store, c)))));
    } catch (e) {
      if (e.status === 401) return onUnauthorized();
      mount(body, notice(t('load_failed', { message: explain(e) }), { kind: 'error', retry: load }));
    }
  }
}

function qrCard(store, { table, area }) {
  const src = `/api/v1/console/stores/${store.id}/tables/${table.id}/qr.svg?base=${encodeURIComponent(location.origin)}`;
  const img = h('img.qr', { src, alt: `${area.name} ${table.code} ${t('scan_to_order')}`, width: 270, height: 270 });
  const failed = h('p.qr-failed', { hidden: true }, t('qr_failed'));
  img.addEventListener('error', () => {
    img.hidden = true;
    failed.hidden = false;
  });
  return h(
    'article.qr-card',
    { dataset: { tableId: table.id } },
    h('p.qr-store', {}, store.name),
    h('p.qr-table', {}, h('span.qr-area', {}, area.name), h('span.qr-code', {}, table.code)),
    img,
    failed,
    h('p.qr-cta', {}, t('scan_to_order')),
  );
}
