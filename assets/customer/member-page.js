// The diner's 会员 page (#member): level and what it gives, growth to the next level, points
// with their ledger and next expiry, stored value, and recharge by the brand's tiers through
// the payment gateways (the demo's simulator). A guest is asked to sign in on 订单 first.

import { h, mount } from '../shared/dom.js';
import { yuan } from '../shared/money.js';
import { get, post, put } from '../shared/api.js';
import { toast } from '../shared/toast.js';
import { lang, translator } from '../shared/i18n.js';
import { progressPercent, bonusFor, yuanToFen, checkAmount, discountLabel } from './member-logic.js';

const t = translator({
  title: ['会员', 'Membership'],
  back: ['返回', 'Back'],
  signIn: ['登录后即成为会员，享积分、等级权益和储值。请在「订单」页用手机号登录。', 'Sign in to become a member: points, level benefits and stored value. Sign in on the Orders page.'],
  goSignIn: ['去登录', 'Sign in'],
  loadFailed: ['会员信息加载失败', 'Could not load your membership'],
  bronze: ['青铜会员', 'Bronze'],
  silver: ['白银会员', 'Silver'],
  gold: ['黄金会员', 'Gold'],
  diamond: ['钻石会员', 'Diamond'],
  growth: ['成长值 {n}', 'Growth {n}'],
  toNext: ['再消费 {n} 元升级为{level}', 'Spend ¥{n} more to reach {level}'],
  top: ['已是最高等级', 'Top level'],
  benefits: ['等级权益', 'Benefits'],
  discount: ['会员折扣 {label}', 'Member discount {label}'],
  freeDelivery: ['免配送费', 'Free delivery'],
  birthdayGift: ['生日礼', 'Birthday gift'],
  none: ['升级后解锁更多权益', 'More benefits at the next level'],
  memberDay: ['今天是会员日：积分 {n} 倍', 'Member day today: {n}× points'],
  memberDayIs: ['会员日：每{day}，积分 {n} 倍', 'Member day: every {day}, {n}× points'],
  happyBirthday: ['生日快乐！今日享生日礼', 'Happy birthday! Your gift is waiting today'],
  points: ['积分', 'Points'],
  perYuan: ['每消费 1 元得 {n} 积分', '{n} points per yuan spent'],
  expiring: ['{n} 积分将于 {date} 过期', '{n} points expire on {date}'],
  ledger: ['积分明细', 'Points history'],
  noEntries: ['还没有积分记录', 'No points yet'],
  more: ['加载更多', 'Load more'],
  balance: ['储值余额', 'Stored value'],
  available: ['可用 {amount}', '{amount} available'],
  recharge: ['充值', 'Recharge'],
  tierLabel: ['充{pay}送{bonus}', 'Pay {pay}, get {bonus} extra'],
  custom: ['其他金额（元）', 'Other amount (¥)'],
  willGet: ['到账 {total}（含赠送 {bonus}）', 'You get {total} ({bonus} bonus)'],
  payWechat: ['微信支付', 'WeChat Pay'],
  payAlipay: ['支付宝', 'Alipay'],
  notMoney: ['请输入金额', 'Enter an amount'],
  tooSmall: ['最少充值 {min}', 'At least {min}'],
  tooLarge: ['最多充值 {max}', 'At most {max}'],
  noGateway: ['暂未开通在线充值', 'Online recharge is not available here'],
  paid: ['充值成功，已到账 {total}', 'Recharged: {total} added'],
  waiting: ['等待支付结果…', 'Waiting for the payment…'],
  birthday: ['生日', 'Birthday'],
  birthdayAsk: ['填写生日，生日当天享生日特权（填写后不可修改）', 'Tell us your birthday for a birthday perk (cannot be changed later)'],
  birthdaySave: ['保存', 'Save'],
  birthdayIs: ['{month}月{day}日', '{day}/{month}'],
  earn: ['消费', 'Order'],
  redeem: ['兑换', 'Redeemed'],
  expire: ['过期', 'Expired'],
  reverse: ['退款扣回', 'Refunded'],
  adjust: ['调整', 'Adjusted'],
});

const weekdays = {
  zh: ['', '周一', '周二', '周三', '周四', '周五', '周六', '周日'],
  en: ['', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'],
};

let current = null;

export function closeMemberView() {
  current?.stop();
  current = null;
  document.querySelector('.page-view.member-view')?.remove();
}

export function openMember(ctx) {
  closeMemberView();
  const body = h('div.member-content', {}, h('div.skeleton-card'));
  const root = h('div.page-view.member-view', { role: 'dialog', 'aria-modal': 'true', 'aria-label': t('title') },
    h('header.view-head', {},
      h('button.back', { type: 'button', onclick: () => ctx.backToMenu(), 'aria-label': t('back') }, '‹'),
      h('h1', {}, t('title')),
      h('span'),
    ),
    h('div.view-body', {}, body),
  );
  document.body.append(root);
  const page = { ctx, body, data: null, entries: [], nextBefore: null, stopped: false, poll: null };
  page.stop = () => {
    page.stopped = true;
    clearTimeout(page.poll);
  };
  current = page;
  load(page);
  return root;
}

const storeQuery = (page) => `store_id=${encodeURIComponent(page.ctx.state.storeId)}`;

async function load(page) {
  try {
    const [data, points] = await Promise.all([
      get(`customer/membership?${storeQuery(page)}`),
      get(`customer/membership/points?${storeQuery(page)}&limit=20`),
    ]);
    if (page.stopped) return;
    page.data = data;
    page.entries = points.entries;
    page.nextBefore = points.next_before || null;
    render(page);
  } catch (error) {
    if (page.stopped) return;
    if (error.status === 401) {
      return mount(page.body, h('section.card', {},
        h('p.hint', {}, t('signIn')),
        h('a.button', { href: '#orders', dataset: { action: 'member-sign-in' } }, t('goSignIn'))));
    }
    mount(page.body, h('p.hint', {}, `${t('loadFailed')}：${error.message}`));
  }
}

const dateOf = (ms) => new Date(ms).toLocaleDateString(lang() === 'en' ? 'en-GB' : 'zh-CN', { timeZone: 'Asia/Shanghai' });

function render(page) {
  const d = page.data;
  mount(page.body, levelCard(d), perksCard(d), pointsCard(page), balanceCard(page), birthdayCard(page));
}

function levelCard(d) {
  const s = d.standing;
  const levels = d.programme.levels;
  const percent = progressPercent(d.growth, levels, s.level);
  const next = s.next_level
    ? t('toNext', { n: s.growth_to_next, level: t(s.next_level) })
    : t('top');
  // Through the CSSOM, not a style attribute: the page's CSP allows no inline styles.
  const bar = h('span.bar');
  bar.style.width = `${percent}%`;
  return h(`section.card.member-level.level-${s.level}`, { dataset: { level: s.level } },
    h('div.level-name', {}, t(s.level)),
    h('div.growth', {}, t('growth', { n: d.growth })),
    h('div.progress', { role: 'progressbar', 'aria-valuenow': String(percent), 'aria-valuemin': '0', 'aria-valuemax': '100' }, bar),
    h('p.next', {}, next));
}

function perksCard(d) {
  const s = d.standing;
  const b = s.benefits;
  const items = [];
  const label = discountLabel(b.discount_bps);
  if (label) items.push(h('li', {}, t('discount', { label })));
  if (b.free_delivery) items.push(h('li', {}, t('freeDelivery')));
  if (b.birthday_gift) items.push(h('li', {}, t('birthdayGift')));
  if (!items.length) items.push(h('li.muted', {}, t('none')));
  const p = d.programme;
  const notes = [];
  if (s.member_day) notes.push(h('p.member-day.today', {}, t('memberDay', { n: s.points_multiplier })));
  else if (p.member_day_weekday) {
    notes.push(h('p.member-day', {}, t('memberDayIs', { day: weekdays[lang() === 'en' ? 'en' : 'zh'][p.member_day_weekday], n: p.member_day_multiplier })));
  }
  if (s.birthday_gift_today) notes.push(h('p.birthday-today', {}, t('happyBirthday')));
  return h('section.card.member-perks', {}, h('h2', {}, t('benefits')), h('ul.perks', {}, items), notes);
}

function pointsCard(page) {
  const d = page.data;
  const rows = page.entries.map((e) => h('li.points-entry', { dataset: { kind: e.kind } },
    h('div', {}, h('strong', {}, t(e.kind)), h('div.sub', {}, `${e.reason} · ${dateOf(e.created_at_ms)}`)),
    h(`span.delta${e.points >= 0 ? '.plus' : '.minus'}`, {}, `${e.points >= 0 ? '+' : ''}${e.points}`)));
  const more = page.nextBefore
    ? h('button.chip', { type: 'button', onclick: async (event) => {
      event.currentTarget.disabled = true;
      const next = await get(`customer/membership/points?${storeQuery(page)}&limit=20&before=${encodeURIComponent(page.nextBefore)}`);
      page.entries = page.entries.concat(next.entries);
      page.nextBefore = next.next_before || null;
      render(page);
    } }, t('more'))
    : null;
  return h('section.card.member-points', {},
    h('div.points-head', {},
      h('h2', {}, t('points')),
      h('span.points-balance', { dataset: { points: String(d.points) } }, String(d.points))),
    h('p.hint', {}, t('perYuan', { n: d.programme.points_per_yuan })),
    d.expiring_points ? h('p.expiring', {}, t('expiring', { n: d.expiring_points, date: dateOf(d.expiring_at_ms - 1) })) : null,
    h('h3', {}, t('ledger')),
    rows.length ? h('ul.points-ledger', {}, rows) : h('p.empty', {}, t('noEntries')),
    more);
}

function balanceCard(page) {
  const d = page.data;
  const p = d.programme;
  const tiers = p.recharge_tiers;
  let chosen = tiers.length ? tiers[0].pay_fen : null;
  const custom = h('input', { name: 'amount', inputMode: 'decimal', placeholder: t('custom'), maxLength: 9 });
  const preview = h('p.recharge-preview');
  const amount = () => (custom.value.trim() ? yuanToFen(custom.value) : chosen);
  const showPreview = () => {
    const fen = amount();
    const problem = checkAmount(fen, p.min_recharge_fen, p.max_recharge_fen);
    preview.textContent = problem
      ? t(problem, { min: yuan(p.min_recharge_fen), max: yuan(p.max_recharge_fen) })
      : t('willGet', { total: yuan(fen + bonusFor(fen, tiers)), bonus: yuan(bonusFor(fen, tiers)) });
    return problem ? null : fen;
  };
  const chips = tiers.map((tier) => h('button.chip.tier', {
    type: 'button',
    dataset: { action: 'tier', payFen: String(tier.pay_fen) },
    'aria-pressed': String(tier.pay_fen === chosen),
    onclick: (event) => {
      chosen = tier.pay_fen;
      custom.value = '';
      for (const chip of event.currentTarget.parentNode.children) chip.setAttribute('aria-pressed', String(chip === event.currentTarget));
      showPreview();
    },
  }, t('tierLabel', { pay: yuan(tier.pay_fen), bonus: yuan(tier.bonus_fen) })));
  custom.oninput = showPreview;
  const pay = (provider) => async (event) => {
    const fen = showPreview();
    if (fen == null) return;
    const button = event.currentTarget;
    button.disabled = true;
    try {
      const back = `${location.pathname}${location.search}#member`;
      const started = await post('customer/recharges', {
        store_id: page.ctx.state.storeId,
        amount_fen: fen,
        payment: { how: 'browser', provider, return_path: back },
      });
      sessionStorage.setItem('diancan.recharge', started.recharge.id);
      const next = started.simulator_url || (started.next.kind === 'redirect' ? started.next.url : null);
      if (next) location.assign(next);
      else toast(t('noGateway'));
    } catch (error) {
      button.disabled = false;
      toast(error.message);
    }
  };
  const waiting = sessionStorage.getItem('diancan.recharge');
  if (waiting && !page.following) followRecharge(page, waiting);
  showPreview();
  return h('section.card.member-balance', {},
    h('div.points-head', {},
      h('h2', {}, t('balance')),
      h('span.balance-amount', { dataset: { balanceFen: String(d.balance_fen) } }, yuan(d.balance_fen))),
    h('p.hint', {}, t('available', { amount: yuan(d.available_fen) })),
    h('h3', {}, t('recharge')),
    h('div.tiers', {}, chips),
    custom,
    preview,
    h('div.pay-row', {},
      h('button.button.pay', { type: 'button', dataset: { action: 'recharge', provider: 'wechat_pay' }, onclick: pay('wechat_pay') }, t('payWechat')),
      h('button.button.pay.alt', { type: 'button', dataset: { action: 'recharge', provider: 'alipay' }, onclick: pay('alipay') }, t('payAlipay'))));
}

/** After coming back from the gateway: wait for the recharge to be paid, then show it. */
function followRecharge(page, id) {
  page.following = true;
  let tries = 0;
  const check = async () => {
    if (page.stopped) return;
    try {
      const r = await get(`customer/recharges/${encodeURIComponent(id)}?${storeQuery(page)}`);
      if (r.state === 'paid') {
        sessionStorage.removeItem('diancan.recharge');
        toast(t('paid', { total: yuan(r.amount_fen + r.bonus_fen) }));
        page.following = false;
        return load(page);
      }
      if (r.state === 'closed') return sessionStorage.removeItem('diancan.recharge');
    } catch (error) {
      if (error.status === 404 || error.status === 401) return sessionStorage.removeItem('diancan.recharge');
    }
    tries += 1;
    if (tries === 1) toast(t('waiting'));
    if (tries < 30) page.poll = setTimeout(check, 1000);
  };
  page.poll = setTimeout(check, 300);
}

function birthdayCard(page) {
  const b = page.data.birthday;
  if (b) return h('section.card.member-birthday', {}, h('h2', {}, t('birthday')), h('p', {}, t('birthdayIs', b)));
  const month = h('select', { name: 'month' }, Array.from({ length: 12 }, (_, i) => h('option', { value: String(i + 1) }, String(i + 1))));
  const day = h('select', { name: 'day' }, Array.from({ length: 31 }, (_, i) => h('option', { value: String(i + 1) }, String(i + 1))));
  const save = h('button.chip', { type: 'button', dataset: { action: 'save-birthday' }, onclick: async () => {
    save.disabled = true;
    try {
      await put('customer/membership/birthday', { store_id: page.ctx.state.storeId, month: Number(month.value), day: Number(day.value) });
      load(page);
    } catch (error) {
      save.disabled = false;
      toast(error.message);
    }
  } }, t('birthdaySave'));
  return h('section.card.member-birthday', {}, h('h2', {}, t('birthday')), h('p.hint', {}, t('birthdayAsk')),
    h('div.login-row', {}, month, day, save));
}
