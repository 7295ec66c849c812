// How a store's hours and open state read to a diner, shared by the store list and the menu
// page so both say "营业中 · 07:00–22:00" the same way.

import { translator, localized } from '../shared/i18n.js';

const t = translator({
  open: ['营业中', 'Open'],
  closed: ['休息中', 'Closed'],
  opensToday: ['今天 {time} 开始营业', 'Opens today at {time}'],
  opensTomorrow: ['明天 {time} 开始营业', 'Opens tomorrow at {time}'],
  opensOn: ['{month}月{day}日 {time} 开始营业', 'Opens {month}/{day} at {time}'],
  daily: ['每天', 'Daily'],
  weekdays: ['周一至周五', 'Mon–Fri'],
  weekend: ['周六周日', 'Sat–Sun'],
  days: ['一二三四五六日', 'Mon,Tue,Wed,Thu,Fri,Sat,Sun'],
  week: ['周', ''],
});

export const storeName = (store) => localized(store.name, store.name_en);

/** "每天 07:00–22:00", or "周一至周五 10:00–14:00 · 周六周日 …" */
export function hoursText(hours = []) {
  return hours.map((w) => `${weekdaysText(w.weekdays)} ${w.start}–${w.end}`).join(' · ');
}

function weekdaysText(days = []) {
  const key = [...days].sort().join('');
  if (key === '1234567') return t('daily');
  if (key === '12345') return t('weekdays');
  if (key === '67') return t('weekend');
  const names = t('days');
  const list = names.includes(',') ? names.split(',') : [...names];
  return days.map((d) => t('week') + list[d - 1]).join(t('week') ? '、' : ', ');
}

/** {open, label, detail}: "营业中" or "休息中" with when it opens next. */
export function openState(store, now = new Date()) {
  if (store.open_now) return { open: true, label: t('open'), detail: '' };
  let detail = '';
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}:\d{2})/.exec(store.opens_at || '');
  if (match) {
    const [, y, m, d, time] = match;
    const day = Date.UTC(+y, +m - 1, +d);
    const today = Date.UTC(now.getFullYear(), now.getMonth(), now.getDate());
    const diff = Math.round((day - today) / 86400000);
    detail = diff === 0 ? t('opensToday', { time }) : diff === 1 ? t('opensTomorrow', { time }) : t('opensOn', { month: +m, day: +d, time });
  }
  return { open: false, label: t('closed'), detail };
}

/** "596 m" / "4.9 km" */
export function distanceText(metres) {
  if (metres === null || metres === undefined) return '';
  return metres < 1000 ? `${metres} m` : `${(metres / 1000).toFixed(metres < 10000 ? 1 : 0)} km`;
}
