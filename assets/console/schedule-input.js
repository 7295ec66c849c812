// Editing time windows (早餐 06:30–10:30 on some weekdays) for categories and dishes:
// no windows means available all day.

import { h, mount } from '../shared/dom.js';
import { t } from './strings.js';
import { emptyWindow } from './dish-form.js';
import { fieldError } from './ui.js';

const PRESETS = [
  ['preset_breakfast', '06:30', '10:30'],
  ['preset_lunch', '10:30', '14:30'],
  ['preset_dinner', '17:00', '21:30'],
];

/** "一至五 10:30–14:30" style summary of a schedule, for lists. */
export function scheduleSummary(windows) {
  if (!windows?.length) return t('always');
  const names = t('weekdays').split(',');
  return windows
    .map((w) => {
      const days = w.weekdays.length === 7 ? '' : w.weekdays.map((d) => names[d - 1]).join(t('weekdays').includes('Mon') ? ' ' : '') + ' ';
      return `${days}${w.start}–${w.end}`;
    })
    .join('；');
}

/** The windows editor; mutates `windows` in place. `path` prefixes error paths ("availability"). */
export function scheduleInput(windows, { errors = {}, path = 'availability' } = {}) {
  const box = h('div.schedule');
  const names = t('weekdays').split(',');
  const render = () => {
    mount(
      box,
      fieldError(path, errors),
      windows.length ? null : h('p.muted', {}, t('schedule_hint')),
      windows.map((w, i) => {
        const start = h('input', { type: 'time', value: w.start, required: true, 'aria-label': t('from'), oninput: (e) => (w.start = e.target.value) });
        const end = h('input', { type: 'time', value: w.end, required: true, 'aria-label': t('to'), oninput: (e) => (w.end = e.target.value) });
        const p = `${path}[${i}]`;
        return h(
          'div.window',
          { dataset: { field: p } },
          h(
            'div.weekdays',
            { role: 'group', 'aria-label': t('weekdays') },
            names.map((name, d) =>
              h(
                'button.day',
                {
                  type: 'button',
                  'aria-pressed': String(w.weekdays.includes(d + 1)),
                  onclick: (e) => {
                    const day = d + 1;
                    const on = w.weekdays.includes(day);
                    w.weekdays = on ? w.weekdays.filter((x) => x !== day) : [...w.weekdays, day].sort();
                    e.currentTarget.setAttribute('aria-pressed', String(!on));
                  },
                },
                name,
              ),
            ),
          ),
          h('div.times', {}, start, h('span', { 'aria-hidden': 'true' }, '–'), end,
            h('button.icon', { type: 'button', 'aria-label': t('remove'), onclick: () => { windows.splice(i, 1); render(); } }, '×')),
          fieldError(`${p}.weekdays`, errors),
          fieldError(`${p}.end`, errors),
          fieldError(`${p}.start`, errors),
        );
      }),
      h(
        'div.row-actions',
        {},
        h('button.secondary.small', { type: 'button', onclick: () => { windows.push(emptyWindow()); render(); } }, '+ ' + t('add_window')),
        PRESETS.map(([key, s, e]) =>
          h('button.chip.suggest', { type: 'button', onclick: () => { windows.push(emptyWindow(s, e)); render(); } }, '+ ' + t(key)),
        ),
      ),
    );
  };
  render();
  return box;
}
