// 消息: the signed-in diner's inbox (order notices and the brand's campaigns), what they hear
// about, and WeChat consent for subscribe messages. Inside WeChat the page asks with
// wx.requestSubscribeMessage; in demo mode (the server's simulated WeChat) a button stands in.

import { h, mount } from '../shared/dom.js';
import { get, post, put } from '../shared/api.js';
import { toast } from '../shared/toast.js';
import { lang, translator } from '../shared/i18n.js';

const t = translator({
  inbox: ['消息', 'Messages'],
  back: ['返回', 'Back'],
  empty: ['暂无消息', 'No messages yet'],
  signIn: ['登录后可查看订单消息和优惠活动', 'Sign in to see order notices and offers'],
  readAll: ['全部已读', 'Mark all read'],
  more: ['加载更多', 'Load more'],
  settings: ['通知设置', 'Notifications'],
  sms: ['短信通知（取餐、退款）', 'Text messages (pickup, refunds)'],
  wechatLeft: ['微信提醒剩余 {n} 次', '{n} WeChat notices left'],
  subscribe: ['接收微信提醒', 'Get WeChat notices'],
  simulate: ['模拟微信授权（演示）', 'Simulate WeChat consent (demo)'],
  granted: ['已授权，下一次{kinds}将通过微信提醒您', 'Done: the next {kinds} will reach you on WeChat'],
  none: ['未授权任何提醒', 'No notices were allowed'],
  saved: ['已保存', 'Saved'],
  order: ['查看订单', 'View order'],
  kind_order_accepted: ['接单提醒', 'Order accepted'],
  kind_ready_for_pickup: ['取餐提醒', 'Ready for pickup'],
  kind_out_for_delivery: ['配送提醒', 'Out for delivery'],
  kind_refunded: ['退款提醒', 'Refunds'],
  kind_campaign: ['优惠活动', 'Offers'],
});

/** Text for a message's time: "12:30" today, "11月25日 12:30" otherwise. */
export function messageTime(ms, now = Date.now()) {
  const at = new Date(ms);
  const today = new Date(now);
  const hm = `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`;
  if (at.toDateString() === today.toDateString()) return hm;
  return lang() === 'en' ? `${at.getMonth() + 1}/${at.getDate()} ${hm}` : `${at.getMonth() + 1}月${at.getDate()}日 ${hm}`;
}

/** The consent answers as the API takes them, from what wx.requestSubscribeMessage gave. */
export function consentAnswers(result, templateIds) {
  return templateIds
    .filter((id) => typeof result?.[id] === 'string')
    .map((id) => ({ template_id: id, answer: result[id] }));
}

/** The unread count for the badge; 0 for a guest. */
export async function unreadCount() {
  try {
    return (await get('customer/inbox/unread')).unread_count;
  } catch {
    return 0;
  }
}

export function closeInbox() {
  document.querySelector('.page-view.inbox-view')?.remove();
}

/** Opens the inbox over the menu; `ctx.backToMenu()` closes it, `ctx.unreadChanged(n)` updates the badge. */
export async function openInbox(ctx) {
  closeInbox();
  const list = h('section.card.inbox-list', { 'aria-live': 'polite' });
  const settings = h('section.card.notify-settings');
  const root = h('div.page-view.inbox-view', { role: 'dialog', 'aria-modal': 'true', 'aria-label': t('inbox') },
    h('header.view-head', {},
      h('button.back', { type: 'button', onclick: () => ctx.backToMenu(), 'aria-label': t('back') }, '‹'),
      h('h1', {}, t('inbox')),
      h('span'),
    ),
    h('div.view-body', {}, list, settings),
  );
  document.body.append(root);
  let page;
  try {
    page = await get('customer/inbox?limit=20');
  } catch (error) {
    mount(list, h('p.empty', {}, error.status === 401 ? t('signIn') : error.message));
    return;
  }
  renderList(ctx, list, page);
  renderSettings(settings);
}

function renderList(ctx, list, page, shown = []) {
  const messages = shown.concat(page.messages);
  ctx.unreadChanged?.(page.unread_count);
  if (!messages.length) return mount(list, h('p.empty', {}, t('empty')));
  const items = messages.map((m) => h(m.read ? 'article.message.read' : 'article.message.unread', { dataset: { messageId: m.id } },
    h('div.message-head', {}, h('strong', {}, m.title), h('time', {}, messageTime(m.created_at_ms))),
    h('p', {}, m.body),
    m.order_id ? h('a.link', { href: `#order=${encodeURIComponent(m.order_id)}` }, t('order')) : null,
  ));
  mount(list,
    page.unread_count > 0
      ? h('button.chip', { type: 'button', dataset: { action: 'read-all' }, onclick: async () => {
        const left = await post('customer/inbox/read', {}).catch((e) => toast(e.message));
        if (left) renderList(ctx, list, { messages: [], unread_count: left.unread_count }, messages.map((m) => ({ ...m, read: true })));
      } }, t('readAll'))
      : null,
    items,
    page.next_before
      ? h('button.chip', { type: 'button', onclick: async () => {
        const next = await get(`customer/inbox?limit=20&before=${encodeURIComponent(page.next_before)}`).catch((e) => toast(e.message));
        if (next) renderList(ctx, list, next, messages);
      } }, t('more'))
      : null,
  );
}

async function renderSettings(el) {
  let prefs;
  try {
    prefs = await get('customer/notification-preferences');
  } catch {
    return;
  }
  const save = async (optedOut, smsEnabled) => {
    try {
      prefs = await put('customer/notification-preferences', { opted_out: optedOut, sms_enabled: smsEnabled });
      toast(t('saved'));
      draw();
    } catch (error) {
      toast(error.message);
    }
  };
  const optedOut = () => prefs.kinds.filter((k) => !k.enabled).map((k) => k.kind);
  const templates = () => prefs.kinds.filter((k) => k.enabled && k.template_id).map((k) => k.template_id);
  const draw = () => mount(el,
    h('h2', {}, t('settings')),
    prefs.kinds.map((k) => h('label.switch-row', {},
      h('span', {}, t(`kind_${k.kind}`)),
      k.wechat_grants ? h('small', {}, t('wechatLeft', { n: k.wechat_grants })) : null,
      h('input', { type: 'checkbox', checked: k.enabled, dataset: { kind: k.kind }, onchange: (e) => {
        const off = new Set(optedOut());
        if (e.target.checked) off.delete(k.kind);
        else off.add(k.kind);
        save([...off], prefs.sms_enabled);
      } }))),
    h('label.switch-row', {},
      h('span', {}, t('sms')),
      h('input', { type: 'checkbox', checked: prefs.sms_enabled, dataset: { setting: 'sms' }, onchange: (e) => save(optedOut(), e.target.checked) })),
    templates().length && (window.wx?.requestSubscribeMessage || prefs.simulated_wechat)
      ? h('button.button.primary', { type: 'button', dataset: { action: 'subscribe' }, onclick: () => subscribe(templates(), prefs.simulated_wechat).then((p) => { if (p) { prefs = p; draw(); } }) },
        window.wx?.requestSubscribeMessage ? t('subscribe') : t('simulate'))
      : null,
  );
  draw();
}

/** Asks WeChat (or, in demo mode, pretends to) and records the answers; the new preferences. */
async function subscribe(templateIds, simulated) {
  try {
    let result;
    let code;
    if (window.wx?.requestSubscribeMessage) {
      // WeChat asks about at most three templates at a time.
      const asked = templateIds.slice(0, 3);
      result = await new Promise((resolve, reject) => window.wx.requestSubscribeMessage({ tmplIds: asked, success: resolve, fail: reject }));
      code = await new Promise((resolve, reject) => window.wx.login({ success: (r) => resolve(r.code), fail: reject }));
    } else if (simulated) {
      result = Object.fromEntries(templateIds.map((id) => [id, 'accept']));
      code = `sim-${(await get('customer/me')).id}`;
    } else {
      return null;
    }
    const recorded = await post('customer/subscribe-consents', { code, answers: consentAnswers(result, templateIds) });
    const kinds = recorded.granted.map((k) => t(`kind_${k}`)).join('、');
    toast(recorded.granted.length ? t('granted', { kinds }) : t('none'));
    return recorded.preferences;
  } catch (error) {
    toast(error.message || String(error));
    return null;
  }
}
