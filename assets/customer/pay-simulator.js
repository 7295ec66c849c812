// Demo mode only: the gateway simulator's payment page. It stands where WeChat Pay's or
// Alipay's own page would: the demo diner sees the amount, taps 支付, and is sent back to the
// order, which moves on once the simulator's signed notification has been settled.

import { h, mount } from '../shared/dom.js';
import { yuan } from '../shared/money.js';
import { get, post } from '../shared/api.js';
import { translator } from '../shared/i18n.js';

const t = translator({
  wechat_pay: ['微信支付', 'WeChat Pay'],
  alipay: ['支付宝', 'Alipay'],
  simulator: ['演示模拟器 · 不会扣款', 'Demo simulator · no money moves'],
  pay: ['支付', 'Pay'],
  paid: ['支付成功，正在返回…', 'Paid; going back…'],
  notPayable: ['这笔支付已结束', 'This payment is over'],
  back: ['返回订单', 'Back to the order'],
  missing: ['找不到这笔支付', 'Payment not found'],
});

const app = document.getElementById('app');
const [, , , provider, tradeNo] = location.pathname.split('/');
const query = new URLSearchParams(location.search);
// Only a path on this site: the page never sends the diner elsewhere.
const back = /^\/(?![/\\])/.test(query.get('back') || '') ? query.get('back') : '/';
const base = `/demo/pay/${encodeURIComponent(provider)}/${encodeURIComponent(tradeNo)}`;

async function show() {
  let details;
  try {
    details = await get(`${base}/details`);
  } catch (error) {
    return mount(app, h('main.pay-sim', {}, h('p.message-page', {}, t('missing')), h('a.button.secondary', { href: back }, t('back'))));
  }
  const button = h(`button.button.pay.${provider.replace('_', '-')}`, { type: 'button', dataset: { action: 'simulated-pay' }, onclick: pay }, t('pay'));
  if (details.state !== 'pending') button.disabled = true;
  mount(app, h(`main.pay-sim.${provider.replace('_', '-')}`, {},
    h('header.pay-sim-head', {}, h('h1', {}, t(provider)), h('p.caption', {}, t('simulator'))),
    h('p.pay-sim-amount', { dataset: { amount: details.amount_fen } }, yuan(details.amount_fen)),
    details.state === 'pending' ? null : h('p.caption', {}, t('notPayable')),
    button,
    h('a.pay-sim-back', { href: back }, t('back'))));

  async function pay() {
    button.disabled = true;
    try {
      await post(base, { to: query.get('to') || undefined });
      button.textContent = t('paid');
      setTimeout(() => location.assign(back), 600);
    } catch (error) {
      button.textContent = error.message;
    }
  }
}

show();
