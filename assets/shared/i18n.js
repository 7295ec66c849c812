// Chinese by default, English on request (?lang=en or the saved choice). Each page passes
// its own dictionary; missing English falls back to the Chinese text.

const KEY = 'diancan.lang';

export function lang() {
  const fromUrl = new URLSearchParams(location.search).get('lang');
  if (fromUrl === 'en' || fromUrl === 'zh') localStorage.setItem(KEY, fromUrl);
  return localStorage.getItem(KEY) === 'en' ? 'en' : 'zh';
}

export function setLang(value) {
  localStorage.setItem(KEY, value === 'en' ? 'en' : 'zh');
  document.documentElement.lang = value === 'en' ? 'en' : 'zh-CN';
}

/** Returns t(key, vars) over a {key: [zh, en]} dictionary; vars fill {name} placeholders. */
export function translator(dictionary) {
  return (key, vars = {}) => {
    const entry = dictionary[key];
    const text = entry ? (lang() === 'en' && entry[1] ? entry[1] : entry[0]) : key;
    return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
  };
}

/** Picks the English field of a menu item when the page is in English and it has one. */
export const localized = (zh, en) => (lang() === 'en' && en ? en : zh);
