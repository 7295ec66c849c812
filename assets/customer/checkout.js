// The checkout page (#checkout): the server's quote line by line, diners, notes, pickup time or
// delivery contact and point, and 提交订单 with one idempotency key per attempt.

import { h, mount } from '../shared/dom.js';
import { yuan } from '../shared/money.js';
import { post } from '../shared/api.js';
import { lang, translator } from '../shared/i18n.js';
import { toast } from '../shared/toast.js';
import * as O from './ordering.js';

const t = translator({
  confirm: ['确认订单', 'Review order'],
  back: ['返回', 'Back'],
  dineIn: ['堂食', 'Dine-in'],
  pickup: ['到店自取', 'Pickup'],
  delivery: ['外卖配送', 'Delivery'],
  table: ['桌号', 'Table'],
  diners: ['就餐人数', 'Diners'],
  dinersHint: ['按人数准备餐具', 'We set out tableware for each'],
  pickupTime: ['取餐时间', 'Pickup time'],
  asap: ['尽快取餐', 'As soon as possible'],
  contactName: ['联系人', 'Name'],
  contactPhone: ['手机号', 'Mobile'],
  address: ['收货地址', 'Address'],
  addressPlaceholder: ['街道、门牌号、楼层', 'Street, number, floor'],
  point: ['定位', 'Location'],
  useMyLocation: ['使用当前位置', 'Use my location'],
  useStorePoint: ['使用门店附近位置（演示）', 'Near the store (demo)'],
  locating: ['定位中…', 'Locating…'],
  noLocation: ['无法获取位置，请允许定位或使用门店位置', 'Could not get your location; allow it or use the store point'],
  pointSet: ['已定位 {lat}, {lng}', 'Located {lat}, {lng}'],
  needPoint: ['请选择定位', 'Choose a location'],
  pointFirst: ['选择定位后计算配送费和合计', 'Choose a location to see the delivery fee and total'],
  note: ['备注 / 忌口', 'Notes / dietary'],
  notePlaceholder: ['口味、忌口等要求', 'Taste, allergies, anything to avoid'],
  items: ['商品小计', 'Items'],
  packingFee: ['打包费', 'Packing'],
  seatFee: ['餐位费', 'Seat fee'],
  deliveryFee: ['配送费', 'Delivery fee'],
  discountTotal: ['共优惠', 'You save'],
  total: ['合计', 'Total'],
  toPay: ['待支付', 'To pay'],
  quoting: ['正在计算价格…', 'Working out the price…'],
  estimate: ['预估', 'estimate'],
  place: ['提交订单', 'Place order'],
  placing: ['正在提交…', 'Placing…'],
  confirmNew: ['价格已更新，确认并提交 {total}', 'Price changed: confirm {total}'],
  stale: ['菜单价格有变化，已按最新价格重新计算，请确认', 'Prices changed; we re-priced your order, please confirm'],
  remove: ['移除', 'Remove'],
  gone: ['已售罄或已下架，不会下单', 'Sold out or withdrawn; not ordered'],
  removeAllBad: ['移除不可下单的菜品', 'Remove the unavailable items'],
  waiter: ['餐桌尚未开台，请联系服务员开台后再下单', 'This table is not open yet; ask a waiter to open it, then order'],
  retryNetwork: ['网络不稳定，订单可能未提交，请点击重试（不会重复下单）', 'Network trouble; tap to retry (you will not be charged twice)'],
  retry: ['重试', 'Retry'],
  fill: ['请填写：{names}', 'Please fill in: {names}'],
  empty: ['购物车是空的', 'Your cart is empty'],
  placed: ['下单成功', 'Order placed'],
  payFirst: ['本店先付后吃', 'Pay before the meal'],
  payAfter: ['用餐后统一结账', 'Pay after the meal'],
  offers: ['优惠', 'Offers'],
  offersBest: ['已为你选择最优惠的组合', 'The best combination is chosen for you'],
  offersOwn: ['你选择的组合', 'Your own combination'],
  offersReset: ['恢复最优组合', 'Back to the best combination'],
  gift: ['赠品', 'Gift'],
  saving: ['已省', 'Saved'],
  free: ['免费', 'Free'],
  myCoupons: ['我的优惠券', 'My coupons'],
});

const QUICK_NOTES = [['不要香菜', 'No coriander'], ['不要葱', 'No scallion'], ['少辣', 'Less spicy'], ['少盐', 'Less salt'], ['不吃辣', 'Not spicy']];
const FIELD_LABEL = { contactName: 'contactName', contactPhone: 'contactPhone', address: 'address', deliveryTo: 'point', pickupTime: 'pickupTime' };
const FORM_KEY = 'diancan.checkout.form';
const attemptKey = (ctx) => `diancan.checkout.attempt.${ctx.state.storeId}.${ctx.state.token || 'takeaway'}`;

function load(key, fallback) {
  try {
    return JSON.parse(localStorage.getItem(key)) ?? fallback;
  } catch {
    return fallback;
  }
}
function save(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Private mode: the form is simply not remembered.
  }
}

let view = null;

/** Opens the checkout page over the menu. `ctx` is the menu page's API (see app.js). */
export function openCheckout(ctx) {
  const saved = load(FORM_KEY, {});
  const table = ctx.state.table;
  view = {
    ctx,
    form: {
      channel: table ? 'dine_in' : saved.channel === 'delivery' ? 'delivery' : 'pickup',
      diners: saved.diners && table ? Math.min(saved.diners, 99) : Math.min(2, table?.seats || 2),
      tableToken: ctx.state.token,
      note: '',
      pickupTime: 'asap',
      contactName: saved.contactName || '',
      contactPhone: saved.contactPhone || '',
      address: saved.address || '',
      deliveryTo: saved.deliveryTo || null,
      // The diner's own pick of offers; null lets the server choose the best combination.
      chosen: null,
    },
    quote: null,
    quoteError: null,
    problems: new Map(),
    general: [],
    lines: [],
    busy: false,
    quoting: false,
    stale: false,
    missing: [],
    locating: false,
    seq: 0,
  };
  const root = h('div.page-view.checkout-page', { role: 'dialog', 'aria-modal': 'true', 'aria-label': t('confirm') });
  document.querySelector('.page-view.checkout-page')?.remove();
  document.body.append(root);
  view.root = root;
  render();
  requote();
}

export function closeCheckout() {
  view?.root.remove();
  view = null;
}

/** The cart changed (another phone, a removed line): price it again. */
export function cartChanged() {
  if (!view) return;
  requote();
}

export const isOpen = () => !!view;

let quoteTimer;
function requote(delay = 0) {
  clearTimeout(quoteTimer);
  quoteTimer = setTimeout(runQuote, delay);
}

async function runQuote() {
  if (!view) return;
  const v = view;
  const seq = ++v.seq;
  v.lines = O.orderableLines(v.ctx.state.cart);
  if (!v.lines.length || (v.form.channel === 'delivery' && !v.form.deliveryTo)) {
    // Nothing to price yet; a delivery is priced once there is a point to deliver to.
    v.quote = null;
    v.quoteError = null;
    v.problems = new Map();
    v.general = [];
    return render();
  }
  v.quoting = true;
  render();
  try {
    const quote = await post(`stores/${encodeURIComponent(v.ctx.state.storeId)}/quote`, O.quoteBody(v.lines, v.form));
    if (seq !== v.seq) return;
    v.quote = quote;
    v.offersQuote = quote;
    v.quoteError = null;
    v.problems = new Map();
    v.general = [];
  } catch (error) {
    if (seq !== v.seq) return;
    v.quote = null;
    setError(error);
  }
  v.quoting = false;
  render();
}

function setError(error) {
  const v = view;
  v.quoteError = error;
  const { byLine, general } = O.lineProblems(error);
  v.problems = byLine;
  v.general = general;
}

function render() {
  const v = view;
  if (!v) return;
  const { state } = v.ctx;
  const store = state.menu.store;
  const q = v.quote;
  // Keep the caret where it was when a quote lands while the diner is typing.
  const focused = document.activeElement?.name && v.root.contains(document.activeElement) ? document.activeElement : null;
  const caret = focused && 'selectionStart' in focused ? [focused.name, focused.selectionStart, focused.selectionEnd] : null;
  mount(v.root,
    h('header.view-head', {},
      h('button.back', { type: 'button', onclick: () => v.ctx.backToMenu(), 'aria-label': t('back') }, '‹'),
      h('h1', {}, t('confirm')),
      h('span.mode', {}, state.table ? `${state.table.area_name} ${state.table.table_code}` : t(v.form.channel))),
    h('div.view-body', {},
      state.table ? null : channelTabs(),
      h('section.card.fields', {}, fieldsFor(store)),
      h('section.card.breakdown', { 'aria-busy': v.quoting ? 'true' : 'false' }, breakdown()),
      offerPicker(),
      h('section.card.fields', {},
        h('label.field', {},
          h('span.label', {}, t('note')),
          noteField()),
        h('div.chips.quick', {}, QUICK_NOTES.map(([zh, en]) => h('button.chip', {
          type: 'button',
          onclick: () => {
            const word = lang() === 'en' ? en : zh;
            if (!v.form.note.includes(word)) v.form.note = (v.form.note ? v.form.note.trim() + ' ' : '') + word;
            render();
          },
        }, lang() === 'en' ? en : zh)))),
      errorBox(),
      h('p.pay-mode', {}, state.table ? (store.pay_mode === 'pay_after_meal' ? t('payAfter') : t('payFirst')) : null)),
    h('footer.view-foot', {},
      h('div.sum', {},
        h('span', {}, q ? t('total') : ''),
        h('strong.price', {}, q ? yuan(q.total_fen) : v.quoting ? '…' : ''),
        q && q.discount_total_fen ? h('small.saved', {}, `${t('discountTotal')} ${yuan(q.discount_total_fen)}`) : null),
      h('button.button.place', {
        type: 'button',
        dataset: { action: 'place-order' },
        disabled: v.busy || v.quoting || !v.lines.length || (!q && !!v.quoteError),
        onclick: place,
      }, v.busy ? t('placing') : v.stale && q ? t('confirmNew', { total: yuan(q.total_fen) }) : t('place'))),
  );
  if (caret) {
    const el = v.root.querySelector(`[name="${caret[0]}"]`);
    if (el) {
      el.focus();
      try {
        el.setSelectionRange(caret[1], caret[2]);
      } catch {
        // Not a text field.
      }
    }
  }
}

function noteField() {
  const area = h('textarea', { rows: 2, maxLength: 140, placeholder: t('notePlaceholder'), name: 'note', oninput: (e) => (view.form.note = e.target.value) });
  area.value = view.form.note;
  return area;
}

function channelTabs() {
  const v = view;
  const tab = (channel) => h('button' + (v.form.channel === channel ? '.on' : ''), {
    type: 'button',
    role: 'tab',
    'aria-selected': v.form.channel === channel ? 'true' : 'false',
    dataset: { channel },
    onclick: () => {
      if (v.form.channel === channel) return;
      v.form.channel = channel;
      v.missing = [];
      rememberForm();
      requote();
    },
  }, t(channel));
  return h('div.tabs', { role: 'tablist' }, tab('pickup'), tab('delivery'));
}

function fieldsFor(store) {
  const v = view;
  const f = v.form;
  const miss = (name) => (v.missing.includes(name) ? '.missing' : '');
  if (f.channel === 'dine_in') {
    return [
      h('div.field.row', {},
        h('span.label', {}, t('table')),
        h('strong', {}, `${v.ctx.state.table.area_name} ${v.ctx.state.table.table_code}`)),
      h('div.field.row', {},
        h('span.label', {}, t('diners'), h('small', {}, t('dinersHint'))),
        h('div.stepper', {},
          h('button.minus', { type: 'button', 'aria-label': '−', disabled: f.diners <= 1, onclick: () => setDiners(f.diners - 1) }, '−'),
          h('output', { name: 'diners' }, f.diners),
          h('button.plus', { type: 'button', 'aria-label': '+', disabled: f.diners >= 99, onclick: () => setDiners(f.diners + 1) }, '+'))),
    ];
  }
  if (f.channel === 'pickup') {
    const times = O.pickupTimes(storeClock(store), { closesAt: closingTime(store) });
    return h('label.field.row', {},
      h('span.label', {}, t('pickupTime')),
      h('select', {
        name: 'pickup_time',
        onchange: (e) => (f.pickupTime = e.target.value),
      }, h('option', { value: 'asap', selected: f.pickupTime === 'asap' }, t('asap')),
      times.map((time) => h('option', { value: time, selected: f.pickupTime === time }, time))));
  }
  const input = (name, attrs) => h('label.field' + miss(name), {},
    h('span.label', {}, t(name)),
    h('input', {
      name, value: f[name], ...attrs,
      oninput: (e) => {
        f[name] = e.target.value;
        rememberForm();
      },
    }));
  return [
    input('contactName', { autocomplete: 'name', maxLength: 20 }),
    input('contactPhone', { type: 'tel', inputMode: 'numeric', autocomplete: 'tel', maxLength: 13 }),
    input('address', { autocomplete: 'street-address', placeholder: t('addressPlaceholder'), maxLength: 100 }),
    h('div.field' + miss('deliveryTo'), {},
      h('span.label', {}, t('point')),
      h('div.point', {},
        h('span.where', {}, v.locating ? t('locating') : f.deliveryTo
          ? t('pointSet', { lat: (f.deliveryTo.latitude_e6 / 1e6).toFixed(4), lng: (f.deliveryTo.longitude_e6 / 1e6).toFixed(4) })
          : t('needPoint')),
        h('button.chip', { type: 'button', dataset: { action: 'locate' }, onclick: locate }, t('useMyLocation')),
        h('button.chip', {
          type: 'button',
          dataset: { action: 'store-point' },
          onclick: () => setPoint({ latitude_e6: store.location.latitude_e6 + 2000, longitude_e6: store.location.longitude_e6 + 2000 }),
        }, t('useStorePoint')))),
  ];
}

/** Minutes since midnight and ISO weekday (1 = Monday) at the store, whatever the phone's zone. */
function storeClock(store) {
  try {
    const parts = new Intl.DateTimeFormat('en-GB', { timeZone: store.time_zone, hour: '2-digit', minute: '2-digit', weekday: 'short', hourCycle: 'h23' }).formatToParts(new Date());
    const get = (type) => parts.find((p) => p.type === type)?.value;
    const weekday = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(get('weekday')) + 1;
    return { minutes: Number(get('hour')) * 60 + Number(get('minute')), weekday };
  } catch {
    const now = new Date();
    return { minutes: now.getHours() * 60 + now.getMinutes(), weekday: ((now.getDay() + 6) % 7) + 1 };
  }
}

function closingTime(store) {
  const day = storeClock(store).weekday;
  const today = (store.hours || []).filter((r) => r.weekdays.includes(day)).map((r) => r.end).sort();
  return today[today.length - 1] || '23:59';
}

function setDiners(n) {
  view.form.diners = n;
  rememberForm();
  render();
  requote(250);
}

function setPoint(point) {
  view.form.deliveryTo = point;
  view.missing = view.missing.filter((m) => m !== 'deliveryTo');
  rememberForm();
  requote();
}

function locate() {
  const v = view;
  if (!navigator.geolocation) return toast(t('noLocation'));
  v.locating = true;
  render();
  navigator.geolocation.getCurrentPosition(
    (pos) => {
      if (view !== v) return;
      v.locating = false;
      setPoint({ latitude_e6: Math.round(pos.coords.latitude * 1e6), longitude_e6: Math.round(pos.coords.longitude * 1e6) });
    },
    () => {
      if (view !== v) return;
      v.locating = false;
      render();
      toast(t('noLocation'));
    },
    { enableHighAccuracy: true, timeout: 8000, maximumAge: 0 },
  );
}

function rememberForm() {
  const f = view.form;
  save(FORM_KEY, { channel: f.channel, diners: f.diners, contactName: f.contactName, contactPhone: f.contactPhone, address: f.address, deliveryTo: f.deliveryTo });
}

function breakdown() {
  const v = view;
  const q = v.quote;
  const { ctx } = v;
  if (!v.lines.length && !ctx.state.cart.lines.length) return h('p.empty', {}, t('empty'));
  const rows = v.lines.map((line, i) => {
    const quoted = q?.lines[i];
    const dish = ctx.state.dishes.get(line.dishId);
    const problems = v.problems.get(i) || [];
    const soldOut = problems.some((p) => p.code === 'SOLD_OUT' || p.code === 'UNKNOWN_ITEM');
    const name = quoted ? O.lineName(quoted, dish?.skus.length > 1) : dish ? ctx.dishName(dish) : line.body?.dish_name || '—';
    const choices = quoted
      ? [...quoted.options.map((o) => O.optionName(o) + (o.price_delta_fen ? ` +${yuan(o.price_delta_fen)}` : '')), ...quoted.combo_items.filter((c) => !c.fixed).map((c) => O.comboItemName(c) + (c.quantity > 1 ? `×${c.quantity}` : ''))]
      : dish ? ctx.choiceLabels(dish, line) : [];
    return h('div.q-line' + (soldOut ? '.bad' : problems.length ? '.warn' : ''), { dataset: { line: i, key: line.key } },
      h('div.what', {},
        h('div.name', {}, name, h('span.qty', {}, ` ×${line.quantity}`)),
        choices.length ? h('div.choices', {}, choices.join('，')) : null,
        line.note || quoted?.note ? h('div.choices', {}, `${t('note')}：${quoted?.note || line.note}`) : null,
        line.addedBy ? h('div.by', {}, ctx.addedByText(line.addedBy)) : null,
        problems.map((p) => h('div.problem', { dataset: { code: p.code } }, p.text))),
      h('div.amount', {},
        quoted ? yuan(quoted.line_total_fen) : h('span.est', {}, yuan(line.unitFen * line.quantity)),
        problems.length ? h('button.remove', {
          type: 'button',
          dataset: { action: 'remove-line' },
          onclick: () => {
            ctx.removeLine(line.key);
            requote();
          },
        }, t('remove')) : null),
    );
  });
  // Lines the menu no longer offers stay visible (greyed) until the diner removes them.
  const gone = ctx.state.cart.lines.filter((l) => l.unavailable).map((line) => {
    const dish = ctx.state.dishes.get(line.dishId);
    return h('div.q-line.bad', { dataset: { key: line.key } },
      h('div.what', {},
        h('div.name', {}, dish ? ctx.dishName(dish) : line.body?.dish_name || '—', h('span.qty', {}, ` ×${line.quantity}`)),
        h('div.problem', { dataset: { code: 'SOLD_OUT' } }, t('gone'))),
      h('div.amount', {}, h('button.remove', {
        type: 'button',
        dataset: { action: 'remove-line' },
        onclick: () => {
          ctx.removeLine(line.key);
          requote();
        },
      }, t('remove'))));
  });
  const row = (label, fen, attrs = {}) => h('div.row', attrs, h('span', {}, label), h('span', {}, fen));
  return [
    h('div.q-lines', {}, rows, gone),
    q ? [
      row(t('items'), yuan(q.subtotal_fen), { class: 'row subtotal' }),
      q.packing_fee_fen ? row(t('packingFee'), yuan(q.packing_fee_fen)) : null,
      q.seat_fee_fen ? row(`${t('seatFee')} ×${v.form.diners}`, yuan(q.seat_fee_fen)) : null,
      q.channel === 'delivery' ? row(t('deliveryFee') + (q.delivery_zone ? `（${q.delivery_zone}）` : ''), yuan(q.delivery_fee_fen)) : null,
      q.discounts.map((d) => h('div.row.discount', { dataset: { source: d.source } },
        h('span', {}, h('span.badge', {}, sourceLabel(d.source)), d.label),
        h('span', {}, '-' + yuan(d.amount_fen)))),
      (q.gifts || []).map((g) => h('div.row.discount.gift', { dataset: { source: g.source } },
        h('span', {}, h('span.badge', {}, t('gift')), g.name),
        h('span', {}, t('free')))),
      h('div.row.total', {}, h('span', {}, t('total')), h('span.price', {}, yuan(q.total_fen))),
      q.saving_fen ? h('div.row.saving', {}, h('span', {}, t('saving')), h('span.price', {}, yuan(q.saving_fen))) : null,
      q.hint ? h('p.threshold-hint', {}, lang() === 'en' ? q.hint.message_en : q.hint.message) : null,
    ] : v.quoting ? h('p.hint', {}, t('quoting'))
      : v.form.channel === 'delivery' && !v.form.deliveryTo ? h('p.hint', {}, t('pointFirst')) : null,
  ];
}

const SOURCES = { promotion: ['活动', 'Deal'], coupon: ['券', 'Coupon'], member: ['会员', 'Member'], store: ['店铺', 'Store'] };
function sourceLabel(source) {
  const entry = SOURCES[O.offerKind(source)];
  return entry ? entry[lang() === 'en' ? 1 : 0] : source;
}

/** The offers the quote used and the ones it left out; a tap picks another combination. */
function offerPicker() {
  const v = view;
  // While a pick is refused, the last priced combination stays to pick from again.
  const quote = v.quote || v.offersQuote;
  const choices = O.offerChoices(quote);
  const own = Array.isArray(v.form.chosen);
  if (!choices.length && !own) return null;
  const pick = (source) => {
    v.form.chosen = O.toggleOffer(v.form.chosen, quote, source);
    requote();
  };
  return h('section.card.offers', { 'aria-label': t('offers') },
    h('h3', {}, t('offers'), h('small', {}, own ? t('offersOwn') : t('offersBest'))),
    choices.map((c) => h('label.offer' + (c.applied ? '.on' : '.off'), { dataset: { source: c.source, code: c.code || '' } },
      h('input', { type: 'checkbox', checked: c.applied, onchange: () => pick(c.source) }),
      h('span.badge', {}, sourceLabel(c.source)),
      h('span.label', {}, c.label),
      c.applied ? h('span.amount', {}, c.gift ? t('gift') : '-' + yuan(c.fen)) : h('span.reason', {}, c.reason || ''))),
    own ? h('button.button.secondary', {
      type: 'button',
      dataset: { action: 'best-offers' },
      onclick: () => {
        v.form.chosen = null;
        requote();
      },
    }, t('offersReset')) : null);
}

function errorBox() {
  const v = view;
  const messages = [];
  const e = v.quoteError;
  if (v.missing.length) messages.push(t('fill', { names: v.missing.map((m) => t(FIELD_LABEL[m] || m)).join('、') }));
  if (v.stale) messages.push(t('stale'));
  if (v.form.channel === 'dine_in' && v.ctx.tableClosed() && !(e && O.errorAction(e) === 'waiter')) messages.push(t('waiter'));
  if (e) {
    const action = O.errorAction(e);
    if (action === 'waiter') messages.push(t('waiter'));
    else if (action === 'retry' && v.placeFailed) messages.push(t('retryNetwork'));
    else if (action !== 'lines' || !v.problems.size) messages.push(e.message);
    for (const g of v.general) messages.push(g.text);
  }
  if (!messages.length) return null;
  const bad = [...v.problems.entries()].filter(([, ps]) => ps.some((p) => p.code === 'SOLD_OUT' || p.code === 'UNKNOWN_ITEM'));
  return h('div.card.errors', { role: 'alert' },
    messages.map((m) => h('p', {}, m)),
    bad.length > 1 ? h('button.button.secondary', {
      type: 'button',
      onclick: () => {
        for (const [i] of bad) v.ctx.removeLine(v.lines[i].key);
        requote();
      },
    }, t('removeAllBad')) : null,
    e && O.errorAction(e) === 'retry' && !v.busy ? h('button.button.secondary', { type: 'button', onclick: v.placeFailed ? place : () => requote() }, t('retry')) : null);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function place() {
  const v = view;
  if (!v || v.busy) return;
  v.missing = O.missingFields(v.form);
  if (v.missing.length) return render();
  if (!v.quote) return requote();
  const body = O.orderBody(v.lines, v.form, v.quote.version);
  const attempt = O.attemptFor(load(attemptKey(v.ctx), null), body);
  save(attemptKey(v.ctx), attempt);
  v.busy = true;
  v.stale = false;
  v.placeFailed = false;
  render();
  let order = null;
  for (let tries = 0; ; tries++) {
    try {
      order = await post(`stores/${encodeURIComponent(v.ctx.state.storeId)}/orders`, body, { headers: { 'Idempotency-Key': attempt.key } });
      break;
    } catch (error) {
      if (view !== v) return;
      const action = O.errorAction(error);
      if (action === 'retry' && tries < 3) {
        await sleep(800 * 2 ** tries);
        continue;
      }
      v.busy = false;
      if (action === 'waiter') v.ctx.refreshTable();
      if (action === 'requote') {
        v.ctx.refreshMenu();
        v.stale = true;
        await runQuote();
        v.stale = !!v.quote;
        return render();
      }
      if (action === 'new-key') save(attemptKey(v.ctx), null);
      if (error.code === 'SOLD_OUT') {
        // The store just sold out: a fresh quote names the line.
        await v.ctx.refreshMenu();
        await runQuote();
        if (v.quoteError) return render();
      }
      if (action === 'retry') v.placeFailed = true;
      setError(error);
      if (action === 'lines') v.quote = null;
      render();
      // Bring the problem into view: a greyed line or the message box.
      v.root.querySelector('.q-line.bad, .q-line.warn, .card.errors')?.scrollIntoView({ block: 'center', behavior: 'smooth' });
      return;
    }
  }
  save(attemptKey(v.ctx), null);
  v.busy = false;
  toast(t('placed'));
  v.ctx.orderPlaced(order, v.lines);
}
