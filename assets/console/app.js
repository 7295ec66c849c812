// The console's shell: who is signed in, the store being worked on, the left navigation and
// the top bar, and which page module fills the main area for the current URL.

import { h, mount } from '../shared/dom.js';
import { get, post } from '../shared/api.js';
import { lang, setLang } from '../shared/i18n.js';
import { t } from './strings.js';
import { explain, notice, toast } from './ui.js';
import { loginPage } from './login.js';
import { menuPage } from './menu.js';
import { tablesPage } from './tables.js';
import { ordersPage } from './orders.js';
import { settingsPage } from './settings.js';
import { printersPage } from './printers.js';
import { financePage } from './finance.js';
import { marketingPage } from './marketing.js';
import { staffPage } from './staff.js';
import { membersPage } from './members.js';
import { campaignsPage } from './campaigns.js';
import { qrSheetPage } from './qr-sheet.js';

const STORE_KEY = 'diancan.console.store';
const root = document.getElementById('app');

const AREAS = [
  { path: 'orders', label: 'nav_orders', icon: '单', page: ordersPage },
  { path: 'tables', label: 'nav_tables', icon: '桌', page: tablesPage },
  { path: 'menu', label: 'nav_menu', icon: '菜', page: menuPage },
  { path: 'marketing', label: 'nav_marketing', icon: '营', page: marketingPage },
  { path: 'campaigns', label: 'nav_campaigns', icon: '推', page: campaignsPage },
  { path: 'members', label: 'nav_members', icon: '会', page: membersPage },
  { path: 'finance', label: 'nav_finance', icon: '账', page: financePage },
  { path: 'reports', label: 'nav_reports', icon: '报' },
  { path: 'printers', label: 'nav_printers', icon: '印', page: printersPage },
  { path: 'staff', label: 'nav_staff', icon: '员', page: staffPage },
  { path: 'settings', label: 'nav_settings', icon: '设', page: settingsPage },
];

const session = { staff: null, storeId: null };

function currentArea() {
  const name = location.pathname.replace(/^\/console\/?/, '').split('/')[0] || 'menu';
  return AREAS.find((a) => a.path === name) || AREAS.find((a) => a.path === 'menu');
}

export function navigate(path) {
  history.pushState(null, '', `/console/${path}${location.search}`);
  render();
}

function langButton() {
  return h(
    'button.ghost.lang',
    {
      type: 'button',
      lang: lang() === 'en' ? 'zh-CN' : 'en',
      onclick: () => {
        setLang(lang() === 'en' ? 'zh' : 'en');
        // ?lang= in the URL would override the choice on the next reload.
        const url = new URL(location.href);
        url.searchParams.delete('lang');
        history.replaceState(null, '', url);
        render();
      },
    },
    t('lang_switch'),
  );
}

function chooseStore(staff) {
  const saved = localStorage.getItem(STORE_KEY);
  const ids = staff.stores.map((s) => s.id);
  return ids.includes(saved) ? saved : ids[0] || null;
}

async function logout(button) {
  button.disabled = true;
  try {
    await post('auth/logout');
  } catch {
    // Signing out locally still helps; the cookie is cleared by the server when it answers.
  }
  session.staff = null;
  render();
}

function topBar() {
  const { staff } = session;
  const stores = staff.stores.length
    ? h(
        'select.store-switch',
        {
          'aria-label': t('store'),
          onchange: (e) => {
            session.storeId = e.target.value;
            localStorage.setItem(STORE_KEY, session.storeId);
            render();
          },
        },
        staff.stores.map((s) => h('option', { value: s.id, selected: s.id === session.storeId }, s.name)),
      )
    : h('span.muted', {}, t('no_store'));
  const out = h('button.ghost', { type: 'button', onclick: () => logout(out) }, t('logout'));
  return h(
    'header.topbar',
    {},
    h('div.brand', {}, h('span.brand-name', {}, staff.brand_name), h('span.brand-sub', {}, t('console'))),
    h('label.store-label', {}, h('span.visually-hidden', {}, t('store')), stores),
    h('div.spacer'),
    h('div.who', {}, h('span.who-name', {}, staff.display_name), h('span.role', {}, lang() === 'en' ? staff.role : staff.role_label)),
    langButton(),
    out,
  );
}

function sideNav(active) {
  return h(
    'nav.sidenav',
    { 'aria-label': t('console') },
    AREAS.map((area) =>
      h(
        'a.nav-item',
        {
          href: `/console/${area.path}`,
          'aria-current': area === active ? 'page' : null,
          onclick: (e) => {
            e.preventDefault();
            navigate(area.path);
          },
        },
        h('span.nav-icon', { 'aria-hidden': 'true' }, area.icon),
        h('span.nav-label', {}, t(area.label)),
        area.page ? null : h('span.soon', {}, lang() === 'en' ? 'soon' : '待上线'),
      ),
    ),
  );
}

function comingSoon(area) {
  return h(
    'section.coming.card',
    {},
    h('h1', {}, t(area.label)),
    h('h2', {}, t('coming_title')),
    h('p', {}, t('coming_body', { area: t(area.label) })),
    h('button.primary', { type: 'button', onclick: () => navigate('menu') }, t('go_menu')),
  );
}

function render() {
  document.documentElement.lang = lang() === 'en' ? 'en' : 'zh-CN';
  document.title = `${t('console')} · Diancan`;
  if (!session.staff) {
    mount(root, loginPage({ onLogin: signedIn, langButton: langButton() }));
    return;
  }
  const store = session.staff.stores.find((s) => s.id === session.storeId) || null;
  // The printable QR sheet has no navigation around it.
  if (/^\/console\/tables\/print\/?$/.test(location.pathname)) {
    qrSheetPage(root, { store, onBack: () => navigate('tables'), onUnauthorized });
    return;
  }
  document.body.classList.remove('print-view');
  const area = currentArea();
  const main = h('main.content', { id: 'content' });
  mount(root, h('div.shell', {}, topBar(), sideNav(area), main));
  if (area.page) area.page(main, { staff: session.staff, store, onUnauthorized, navigate });
  else mount(main, comingSoon(area));
}

function onUnauthorized() {
  session.staff = null;
  render();
  toast(t('session_expired'), 'error');
}

function signedIn(staff) {
  session.staff = staff;
  session.storeId = chooseStore(staff);
  render();
}

async function start() {
  setLang(lang());
  try {
    signedIn(await get('auth/me'));
  } catch (e) {
    if (e.status === 401) {
      session.staff = null;
      render();
    } else {
      mount(root, notice(t('load_failed', { message: explain(e) }), { kind: 'error', retry: start }));
    }
  }
}

window.addEventListener('popstate', () => render());
start();
