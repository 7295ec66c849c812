// The API reference at /api/v1/docs, drawn from /api/v1/openapi.json: endpoints by tag, their
// parameters, bodies and responses, with schema references resolved and nested fields expandable.

import { h, mount } from '../shared/dom.js';
import { get } from '../shared/api.js';

const SPEC_URL = '/api/v1/openapi.json';
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const root = document.getElementById('app');
let schemas = {};

async function start() {
  let spec;
  try {
    spec = await get(SPEC_URL);
  } catch (error) {
    mount(root, h('main.failed', {}, h('h1', {}, '接口文档加载失败'), h('p', {}, error.message), h('a', { href: SPEC_URL }, SPEC_URL)));
    return;
  }
  schemas = spec.components?.schemas || {};
  render(spec);
  if (location.hash) document.getElementById(decodeURIComponent(location.hash.slice(1)))?.scrollIntoView();
}

// ---------- grouping ----------

function groupByTag(spec) {
  const groups = new Map((spec.tags || []).map((tag) => [tag.name, { tag, operations: [] }]));
  for (const [path, item] of Object.entries(spec.paths || {})) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const name = op.tags?.[0] || 'other';
      if (!groups.has(name)) groups.set(name, { tag: { name }, operations: [] });
      const parameters = [...(item.parameters || []), ...(op.parameters || [])];
      groups.get(name).operations.push({ path, method, op, parameters, id: op.operationId || `${method}-${path}` });
    }
  }
  return [...groups.values()].filter((g) => g.operations.length);
}

// ---------- page ----------

function render(spec) {
  const groups = groupByTag(spec);
  const filter = h('input.filter', {
    type: 'search',
    placeholder: '筛选接口 · Filter endpoints',
    'aria-label': 'Filter endpoints',
    oninput: (event) => applyFilter(event.target.value.trim().toLowerCase()),
  });
  document.title = `${spec.info?.title || 'API'} · 接口文档`;
  mount(root,
    h('div.layout', {},
      h('nav.sidebar', { 'aria-label': '接口目录' },
        h('div.brand', {}, h('strong', {}, '点餐 Diancan'), h('span', {}, '接口文档')),
        filter,
        groups.map((group) => h('div.nav-group', {},
          h('a.nav-tag', { href: `#tag-${group.tag.name}` }, group.tag.name),
          group.operations.map((o) => h('a.nav-op', { href: `#${o.id}`, dataset: { search: `${o.method} ${o.path} ${o.op.summary || ''}`.toLowerCase() } },
            h(`span.method.${o.method}`, {}, o.method.toUpperCase()), h('span.nav-path', { title: o.path }, o.path.replace(/^\/api\/v1/, '')))))),
        h('a.nav-tag', { href: '#schemas' }, '数据结构 · Schemas')),
      h('main.content', {},
        h('header.intro', {},
          h('h1', {}, spec.info?.title || 'API', h('span.version', {}, `v${spec.info?.version || ''} · OpenAPI ${spec.openapi || ''}`)),
          paragraphs(spec.info?.description),
          h('p.links', {},
            h('a.raw', { href: SPEC_URL }, '原始 JSON · openapi.json'),
            spec.info?.license ? h('span.muted', {}, ` · ${spec.info.license.name}`) : null)),
        groups.map(renderGroup),
        renderSchemas()),
    ),
  );
}

function applyFilter(query) {
  for (const link of document.querySelectorAll('.nav-op')) link.hidden = !!query && !link.dataset.search.includes(query);
  for (const card of document.querySelectorAll('.operation')) card.hidden = !!query && !card.dataset.search.includes(query);
  for (const section of document.querySelectorAll('.tag-section')) section.hidden = ![...section.querySelectorAll('.operation')].some((c) => !c.hidden);
}

function renderGroup({ tag, operations }) {
  return h('section.tag-section', { id: `tag-${tag.name}` },
    h('h2', {}, tag.name, tag.description ? h('span.tag-desc', {}, tag.description) : null),
    operations.map(renderOperation));
}

function renderOperation({ path, method, op, parameters, id }) {
  const [title, ...rest] = (op.summary || '').split('\n');
  const description = [rest.join('\n'), op.description].filter(Boolean).join('\n\n');
  return h('article.operation', { id, dataset: { search: `${method} ${path} ${op.summary || ''}`.toLowerCase() } },
    h('div.op-head', {},
      h(`span.method.${method}`, {}, method.toUpperCase()),
      h('code.path', {}, path),
      h('a.anchor', { href: `#${id}`, 'aria-label': 'link' }, '#')),
    title ? h('p.summary', {}, ...inlineCode(title)) : null,
    paragraphs(description),
    parameters.length ? renderParameters(parameters) : null,
    op.requestBody ? renderBody(op.requestBody) : null,
    renderResponses(op.responses || {}),
  );
}

function renderParameters(parameters) {
  return h('section.block', {},
    h('h3', {}, '参数 · Parameters'),
    h('table.params', {},
      h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'In'), h('th', {}, 'Type'), h('th', {}, 'Description'))),
      h('tbody', {}, parameters.map((p) => {
        const param = p.$ref ? resolve(p).schema : p;
        return h('tr', {},
          h('td', {}, h('code', {}, param.name), param.required ? h('span.req', { title: 'required' }, '*') : null),
          h('td.muted', {}, param.in),
          h('td', {}, typeLabel(param.schema || {})),
          h('td', {}, param.description || resolve(param.schema || {}).schema.description || ''));
      }))));
}

function renderBody(body) {
  return h('section.block', {},
    h('h3', {}, '请求体 · Request body', body.required ? h('span.req-label', {}, 'required') : null),
    body.description ? h('p', {}, body.description) : null,
    Object.entries(body.content || {}).map(([type, media]) => h('div.media', {},
      h('div.media-type', {}, type, ' · ', typeLabel(media.schema || {})),
      media.schema ? schemaBody(media.schema) : null)));
}

function renderResponses(responses) {
  return h('section.block', {},
    h('h3', {}, '响应 · Responses'),
    Object.entries(responses).map(([status, response]) => {
      const media = Object.entries(response.content || {});
      return h('div.response', {},
        h('div.response-head', {},
          h(`span.status.s${status[0]}`, {}, status),
          h('span', {}, response.description || statusText(status)),
          media.map(([type, m]) => h('span.muted', {}, ` · ${type} · `, typeLabel(m.schema || {})))),
        media.map(([, m]) => (m.schema && isComplex(m.schema) ? h('details.schema', { open: status.startsWith('2') },
          h('summary', {}, '字段 · Fields'),
          lazy(() => schemaBody(m.schema))) : null)));
    }));
}

function renderSchemas() {
  return h('section.tag-section', { id: 'schemas' },
    h('h2', {}, '数据结构 · Schemas'),
    Object.keys(schemas).sort().map((name) => h('details.schema.named', { id: `schema-${name}` },
      h('summary', {}, h('code', {}, name), h('span.muted', {}, ` ${typeLabel(schemas[name])}`)),
      lazy(() => schemaBody(schemas[name])))));
}

// ---------- schemas ----------

const refName = (ref) => ref.split('/').pop();

function resolve(schema) {
  let name = null;
  let seen = 0;
  while (schema && schema.$ref && seen++ < 20) {
    name = refName(schema.$ref);
    schema = schemas[name] || {};
  }
  return { name, schema: schema || {} };
}

/** `oneOf: [null, X]` and `type: [X, "null"]` both mean "X or null". */
function unwrapNullable(schema) {
  const variants = schema.oneOf || schema.anyOf;
  if (variants && variants.length === 2) {
    const other = variants.filter((v) => v.type !== 'null');
    if (other.length === 1) return { inner: other[0], nullable: true };
  }
  return { inner: schema, nullable: false };
}

function typeLabel(schema) {
  const { inner, nullable } = unwrapNullable(schema);
  return h('span.type', {}, plainType(inner) + (nullable ? ' | null' : ''));
}

function plainType(schema) {
  if (schema.$ref) {
    const { schema: target } = resolve(schema);
    const name = refName(schema.$ref);
    const primitive = !isComplex(target) && target.type && target.type !== 'object';
    return primitive ? `${name} (${plainType(target)})` : name;
  }
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  const variants = schema.oneOf || schema.anyOf;
  if (variants) {
    const { inner, nullable } = unwrapNullable(schema);
    if (nullable) return plainType(inner) + ' | null';
    return variants.length <= 3 && variants.every((v) => v.$ref || v.type !== 'object') ? variants.map(plainType).join(' | ') : `oneOf (${variants.length})`;
  }
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  const labels = types.map((type) => {
    if (type === 'array') return `array<${schema.items ? plainType(schema.items) : 'any'}>`;
    if (type === 'object' && schema.additionalProperties && typeof schema.additionalProperties === 'object') {
      return `map<string, ${plainType(schema.additionalProperties)}>`;
    }
    return schema.format ? `${type} (${schema.format})` : type;
  });
  if (!labels.length && schema.properties) return 'object';
  return labels.join(' | ') || 'any';
}

function isComplex(schema) {
  const { schema: s } = resolve(schema);
  const { inner, nullable } = unwrapNullable(s);
  if (nullable) return isComplex(inner);
  if (s.properties || s.allOf) return true;
  if (s.oneOf || s.anyOf) return (s.oneOf || s.anyOf).some((v) => v.$ref || v.properties || v.type === 'object');
  if (s.items) return isComplex(s.items);
  if (s.additionalProperties && typeof s.additionalProperties === 'object') return isComplex(s.additionalProperties);
  return false;
}

/** The inside of a schema: its description, then its fields or variants. */
function schemaBody(schema) {
  const { schema: s } = resolve(schema);
  const { inner, nullable } = unwrapNullable(s);
  if (nullable) return schemaBody(inner);
  const parts = [];
  if (s.description && !s.properties) parts.push(h('p.schema-desc', {}, s.description));
  if (s.items) return h('div.schema-body', {}, parts, h('p.muted', {}, '每一项 · each item: ', typeLabel(s.items)), isComplex(s.items) ? schemaBody(s.items) : null);
  if (s.additionalProperties && typeof s.additionalProperties === 'object' && !s.properties) {
    return h('div.schema-body', {}, parts, h('p.muted', {}, '每个值 · each value: ', typeLabel(s.additionalProperties)),
      isComplex(s.additionalProperties) ? schemaBody(s.additionalProperties) : null);
  }
  const variants = s.oneOf || s.anyOf;
  if (variants) {
    parts.push(h('p.muted', {}, '以下之一 · one of:'));
    parts.push(h('ol.variants', {}, variants.map((v) => h('li', {}, typeLabel(v), isComplex(v) ? schemaBody(v) : null))));
    return h('div.schema-body', {}, parts);
  }
  const properties = { ...(s.properties || {}) };
  const required = new Set(s.required || []);
  for (const part of s.allOf || []) {
    const { schema: p } = resolve(part);
    Object.assign(properties, p.properties || {});
    for (const r of p.required || []) required.add(r);
  }
  if (s.description) parts.push(h('p.schema-desc', {}, s.description));
  const names = Object.keys(properties).sort((a, b) => (required.has(b) - required.has(a)) || 0);
  if (names.length) parts.push(h('ul.fields', {}, names.map((name) => renderField(name, properties[name], required.has(name)))));
  if (!names.length && !parts.length) parts.push(h('p.muted', {}, plainType(s)));
  return h('div.schema-body', {}, parts);
}

function renderField(name, schema, required) {
  const { schema: target } = resolve(schema);
  const description = schema.description || target.description || '';
  const head = [
    h('code.field-name', {}, name),
    required ? h('span.req', { title: 'required' }, '*') : null,
    typeLabel(schema),
    description ? h('span.field-desc', {}, description) : null,
  ];
  if (!isComplex(schema)) return h('li.field', {}, h('div.field-row', {}, head));
  return h('li.field', {}, h('details', {}, h('summary.field-row', {}, head), lazy(() => schemaBody(schema))));
}

/** Renders a <details> body only when first opened: schemas can refer to themselves. */
function lazy(build) {
  const slot = h('div.lazy');
  queueMicrotask(() => {
    const details = slot.parentElement;
    if (!details) return;
    const fill = () => {
      if (details.open && !slot.firstChild) mount(slot, build());
    };
    details.addEventListener('toggle', fill);
    fill();
  });
  return slot;
}

// ---------- text ----------

function paragraphs(text) {
  if (!text) return null;
  return text.split(/\n{2,}/).map((para) => h('p.description', {}, ...inlineCode(para)));
}

/** `code` spans in descriptions become <code>; everything else stays text. */
function inlineCode(text) {
  return text.split(/(`[^`]+`)/).map((part) => (part.startsWith('`') && part.endsWith('`') && part.length > 1 ? h('code', {}, part.slice(1, -1)) : part));
}

function statusText(status) {
  return { 200: 'OK', 201: 'Created', 204: 'No Content', 304: 'Not Modified', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 422: 'Unprocessable', 429: 'Too Many Requests' }[status] || '';
}

start();
