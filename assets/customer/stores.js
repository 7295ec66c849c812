// The store list at /: every store with its hours and open state, nearest first once the
// diner lets us use their location, each leading to its takeaway (自取) menu.

import { h, mount } from '../shared/dom.js';
import { get } from '../shared/api.js';
import { lang, setLang, translator } from '../shared/i18n.js';
import { distanceText, hoursText, openState, storeName } from './store-info.js';

const t = translator({
  title: ['选择门店', 'Choose a store'],
  subtitle: ['到店自取，无需排队', 'Order ahead, pick up without queueing'],
  askLocation: ['允许使用位置后，可按距离为您排序门店', 'Share your location to see the nearest store first'],
  useLocation: ['显示距离', 'Use my location'],
  locating: ['正在定位…', 'Locating…'],
  located: ['已按距离由近到远排序', 'Sorted nearest first'],
  denied: ['未获得位置权限，门店按默认顺序显示', 'No location access; stores in the usual order'],
  order: ['到店自取', 'Order for pickup'],
  browse: ['看看菜单', 'See menu'],
  call: ['电话', 'Call'],
  none: ['暂时没有营业的门店', 'No stores yet'],
  failed: ['门店加载失败', 'Could not load stores'],
  retry: ['重试', 'Retry'],
});

const root = document.getElementById('app');
let stores = null;
let point = null;
let locateState = 'idle'; // idle | locating | located | denied

async function load() {
  try {
    const query = point ? `?near=${point.latitude_e6},${point.longitude_e6}` : '';
    stores = await get(`stores${query}`);
    render();
  } catch (error) {
    mount(root, h('main.message-page', {}, h('h1', {}, t('failed')), h('p', {}, error.message),
      h('button.button', { onclick: load }, t('retry'))));
  }
}

function locate() {
  if (!navigator.geolocation) return;
  locateState = 'locating';
  render();
  navigator.geolocation.getCurrentPosition(
    (position) => {
      point = {
        latitude_e6: Math.round(position.coords.latitude * 1e6),
        longitude_e6: Math.round(position.coords.longitude * 1e6),
      };
      locateState = 'located';
      load();
    },
    () => {
      locateState = 'denied';
      render();
    },
    { enableHighAccuracy: false, timeout: 10000, maximumAge: 300000 },
  );
}

function render() {
  if (!stores) return;
  document.title = `${t('title')} · Diancan`;
  document.documentElement.lang = lang() === 'en' ? 'en' : 'zh-CN';
  const brands = [...new Set(stores.map((s) => s.brand_name))];
  mount(
    root,
    h('main.stores-page', {},
      h('header.stores-head', {},
        h('div', {}, h('h1', {}, brands.length === 1 ? brands[0] : t('title')), h('p', {}, t('subtitle'))),
        h('button.lang-toggle', {
          type: 'button',
          onclick: () => { setLang(lang() === 'en' ? 'zh' : 'en'); render(); },
        }, lang() === 'en' ? '中文' : 'EN')),
      locationBanner(),
      stores.length ? stores.map(storeCard) : h('p.empty', {}, t('none')),
    ),
  );
}

function locationBanner() {
  if (!navigator.geolocation) return null;
  if (locateState === 'located') return h('p.locate', {}, t('located'));
  if (locateState === 'denied') return h('p.locate', {}, t('denied'));
  return h('div.locate', {},
    h('span', {}, t('askLocation')),
    h('button', { type: 'button', onclick: locate, disabled: locateState === 'locating' },
      locateState === 'locating' ? t('locating') : t('useLocation')));
}

function storeCard(store) {
  const status = openState(store);
  const href = `/s/${encodeURIComponent(store.id)}`;
  return h('a.store-card' + (status.open ? '' : '.closed'), { href, dataset: { storeId: store.id } },
    h('div.row', {},
      h('h2', {}, storeName(store)),
      store.distance_m !== null && store.distance_m !== undefined ? h('span.distance', {}, distanceText(store.distance_m)) : null),
    h('div.meta', {},
      h(status.open ? 'span.badge-open' : 'span.badge-closed', {}, status.label),
      ' ',
      status.detail || hoursText(store.hours)),
    status.detail ? h('div.meta', {}, hoursText(store.hours)) : null,
    h('p.address', {}, store.address),
    h('div.actions', {},
      store.phone ? h('span.meta', { style: { flex: '1', alignSelf: 'center', marginTop: '0' } }, `${t('call')} ${store.phone}`) : null,
      h('span.button', {}, status.open ? t('order') : t('browse'))),
  );
}

setLang(lang());
load();
// Ask for the location only when the diner already allowed it; otherwise wait for the button.
if (navigator.permissions && navigator.permissions.query) {
  navigator.permissions.query({ name: 'geolocation' }).then((p) => { if (p.state === 'granted') locate(); }, () => {});
}
