// 推送: campaigns to the brand's diners (owners and brand-wide managers). Compose a title and a
// body, choose the audience (all members, or diners of the last N days) and see how many it
// reaches, then send; the list follows each campaign's progress while any is sending.

import { h, mount } from '../shared/dom.js';
import { get, post } from '../shared/api.js';
import { t } from './strings.js';
import { busy, explain, field, input, notice, toast } from './ui.js';

export const TITLE_MAX = 20;
export const BODY_MAX = 200;

/** The audience as the API takes it, from the form. */
export function audienceOf(form) {
  return form.audience === 'recent_diners'
    ? { kind: 'recent_diners', days: Number(form.days) }
    : { kind: 'all_members' };
}

/** "12 / 30" and the share done, for a progress bar. */
export function progressOf(campaign) {
  const total = campaign.audience_count;
  const done = Math.min(campaign.reached_count, total);
  return { text: `${done} / ${total}`, percent: total ? Math.round((done * 100) / total) : 100 };
}

/** Problems found before sending, by field path (the server checks again). */
export function checkForm(form) {
  const errors = {};
  const title = form.title.trim();
  const body = form.body.trim();
  if (!title) errors.title = 'REQUIRED';
  else if ([...form.title].length > TITLE_MAX) errors.title = t('campaign_too_long', { n: TITLE_MAX });
  if (!body) errors.body = 'REQUIRED';
  else if ([...form.body].length > BODY_MAX) errors.body = t('campaign_too_long', { n: BODY_MAX });
  const days = Number(form.days);
  if (form.audience === 'recent_diners' && !(Number.isInteger(days) && days >= 1 && days <= 365)) errors['audience.days'] = t('campaign_days_range');
  return errors;
}

export function campaignsPage(main, { onUnauthorized }) {
  const page = { main, onUnauthorized, campaigns: [], timer: null, form: { title: '', body: '', audience: 'all_members', days: 30 }, errors: {}, preview: null };
  mount(main, notice(t('loading')));
  load(page);
}

async function load(page) {
  try {
    page.campaigns = await get('console/campaigns');
    render(page);
    follow(page);
  } catch (e) {
    if (e.status === 401) return page.onUnauthorized();
    if (e.status === 403) return mount(page.main, notice(t('campaigns_forbidden')));
    mount(page.main, notice(t('load_failed', { message: explain(e) }), { kind: 'error', retry: () => load(page) }));
  }
}

/** Polls while a campaign is sending; stops when none is, or the page is gone. */
function follow(page) {
  clearTimeout(page.timer);
  if (!page.campaigns.some((c) => c.state === 'sending')) return;
  page.timer = setTimeout(async () => {
    if (!page.main.isConnected || !page.main.querySelector('.campaigns-page')) return;
    try {
      page.campaigns = await get('console/campaigns');
      renderList(page);
    } catch {
      // Try again at the next tick.
    }
    follow(page);
  }, 2000);
}

function render(page) {
  page.list = h('section.card.campaign-list');
  page.composer = h('section.card.campaign-compose');
  mount(page.main, h('div.campaigns-page', {},
    h('header.page-head', {}, h('h1', {}, t('campaigns_title'))),
    page.composer,
    page.list));
  renderComposer(page);
  renderList(page);
}

function renderComposer(page) {
  const { form, errors } = page;
  const previewText = h('span.preview-count', { dataset: { role: 'audience-count' } }, page.preview === null ? '' : t('campaign_reaches', { n: page.preview }));
  const refreshPreview = async () => {
    if (form.audience === 'recent_diners' && checkForm(form)['audience.days']) return;
    try {
      page.preview = (await post('console/campaigns/preview', { audience: audienceOf(form) })).audience_count;
      previewText.textContent = t('campaign_reaches', { n: page.preview });
    } catch (e) {
      previewText.textContent = explain(e);
    }
  };
  const title = input({ value: form.title, maxlength: TITLE_MAX, name: 'title', oninput: (e) => (form.title = e.target.value) });
  const body = h('textarea', { rows: 4, maxlength: BODY_MAX, name: 'body', oninput: (e) => (form.body = e.target.value) });
  body.value = form.body;
  const audience = h('select', { name: 'audience', onchange: (e) => { form.audience = e.target.value; renderComposer(page); refreshPreview(); } },
    h('option', { value: 'all_members', selected: form.audience === 'all_members' }, t('audience_all')),
    h('option', { value: 'recent_diners', selected: form.audience === 'recent_diners' }, t('audience_recent')));
  const days = input({ type: 'number', min: 1, max: 365, value: String(form.days), name: 'days', onchange: (e) => { form.days = e.target.value; refreshPreview(); } });
  const send = h('button.primary', { type: 'button', dataset: { action: 'send-campaign' } }, t('campaign_send'));
  send.addEventListener('click', () => busy(send, () => compose(page)));
  mount(page.composer,
    h('h2', {}, t('campaign_new')),
    field(t('campaign_field_title'), title, { path: 'title', errors, hint: t('campaign_limit', { n: TITLE_MAX }) }),
    field(t('campaign_field_body'), body, { path: 'body', errors, hint: t('campaign_limit', { n: BODY_MAX }) }),
    field(t('campaign_field_audience'), audience, { path: 'audience', errors }),
    form.audience === 'recent_diners' ? field(t('campaign_field_days'), days, { path: 'audience.days', errors }) : null,
    h('div.actions', {}, previewText, h('div.spacer'), send));
  if (page.preview === null) refreshPreview();
}

async function compose(page) {
  page.errors = checkForm(page.form);
  if (Object.keys(page.errors).length) return renderComposer(page);
  try {
    const draft = await post('console/campaigns', { title: page.form.title, body: page.form.body, audience: audienceOf(page.form) });
    await post(`console/campaigns/${encodeURIComponent(draft.id)}/send`, {});
    toast(t('campaign_sending'));
    page.form = { title: '', body: '', audience: page.form.audience, days: page.form.days };
    page.errors = {};
    page.campaigns = await get('console/campaigns');
    renderComposer(page);
    renderList(page);
    follow(page);
  } catch (e) {
    if (e.status === 401) return page.onUnauthorized();
    page.errors = Object.fromEntries((e.details || []).map((d) => [d.field, d.text]));
    renderComposer(page);
    toast(explain(e), 'error');
  }
}

function renderList(page) {
  if (!page.list) return;
  if (!page.campaigns.length) return mount(page.list, h('p.empty', {}, t('campaigns_none')));
  mount(page.list, h('table.campaigns', {},
    h('thead', {}, h('tr', {}, ['campaign_field_title', 'campaign_field_audience', 'campaign_state', 'campaign_progress'].map((k) => h('th', {}, t(k))))),
    h('tbody', {}, page.campaigns.map((c) => {
      const progress = progressOf(c);
      return h('tr', { dataset: { campaignId: c.id, state: c.state } },
        h('td', {}, h('strong', {}, c.title), h('div.sub', {}, c.body)),
        h('td', {}, c.audience.kind === 'recent_diners' ? t('audience_recent_n', { n: c.audience.days }) : t('audience_all')),
        h('td', {}, t('campaign_state_' + c.state)),
        h('td', {}, c.state === 'draft' ? '—' : h('div.progress', { role: 'progressbar', 'aria-valuenow': String(progress.percent), 'aria-valuemin': '0', 'aria-valuemax': '100' },
          h('span.bar', { style: { width: `${progress.percent}%` } }), h('span.text', {}, progress.text))));
    }))));
}
