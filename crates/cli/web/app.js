// truce's web page: reads the JSON API (/api/v1) and OGC API - Features (/ogc) of the
// server that served it, with the token the user gives (public without one). No build
// step, no dependency but MapLibre GL JS (vendored, and served by truce itself).
//
// Everything from the server is put in the page with textContent, never as HTML.
// `window.truce` holds the page's state for the browser test (crates/cli/web/e2e/).
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const SERVER = JSON.parse($('truce-server').textContent);
  const TOKEN_KEY = 'truce.token';
  const QUEUE_PAGE = 25;
  const PAGE_MAX = 10000; // the server's largest page (PAGE_MAX)
  const DAY_MS = 86400000;
  const CONFIDENCE_TEXT = { verified: 'verified', corroborated: 'corroborated', single_source: 'single source', rejected: 'rejected' };
  const COLORS = { verified: '#d7301f', corroborated: '#fc8d59', single_source: '#fdd049', rejected: '#9e9e9e', fire: '#7b3294', zone: '#2166ac' };

  const state = {
    ready: false, // every panel has loaded once
    mapReady: false,
    role: 'public',
    name: '',
    at: null, // the assessment instant of the last load
    lineId: null,
    lineDate: null,
    incidents: [], // GeoJSON features on the map
    warFires: [],
    queue: [], // incident ids awaiting review, in order
    queueShown: QUEUE_PAGE,
    loads: 0, // completed loads of the data panels
    map: null,
    errors: [],
    alerts: [], // the latest alerts heard, newest first
    listening: false, // the alerts stream is open
  };
  window.truce = state;
  let token = '';
  try { token = localStorage.getItem(TOKEN_KEY) || ''; } catch (e) { token = ''; }
  const clockLoaded = Date.now();

  // ---------- Helpers ----------

  class HttpError extends Error {
    constructor(status, code, message) { super(message); this.status = status; this.code = code; }
  }

  // Fetches a path of this server with the token; throws HttpError with the server's
  // error message on a non-2xx status.
  async function api(path, opts) {
    const o = opts || {};
    const headers = Object.assign({ Accept: 'application/json' }, o.headers || {});
    if (token) headers.Authorization = 'Bearer ' + token;
    const r = await fetch(path, Object.assign({}, o, { headers, cache: 'no-store' }));
    const ct = r.headers.get('content-type') || '';
    const body = ct.includes('json') ? await r.json().catch(() => null) : await r.text();
    if (!r.ok) {
      const e = body && body.error ? body.error : { code: 'http_' + r.status, message: r.status + ' ' + r.statusText };
      throw new HttpError(r.status, e.code, e.message);
    }
    return body;
  }

  // A same-origin path from a link the server made (which may carry --base-url's host).
  function local(href) {
    const u = new URL(href, location.href);
    return u.pathname + u.search;
  }

  // Every feature of an OGC items query, following `next` links.
  async function features(path) {
    let next = path;
    const out = [];
    for (let pages = 0; next && pages < 1000; pages++) {
      const fc = await api(next);
      out.push(...fc.features);
      const l = (fc.links || []).find((x) => x.rel === 'next');
      next = l ? local(l.href) : null;
    }
    return out;
  }

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const k of kids) if (k !== null && k !== undefined) e.append(k);
    return e;
  }

  const when = (iso) => (iso ? String(iso).slice(0, 16).replace('T', ' ') : '');
  const day = (ms) => new Date(ms).toISOString().slice(0, 10);
  const dayMs = (d) => Date.parse(d + 'T00:00:00Z');
  const num = (x, digits) => (x === null || x === undefined ? '—' : Number(x).toLocaleString('en-GB', { maximumFractionDigits: digits || 0, minimumFractionDigits: digits || 0 }));
  const pct = (x) => (x === null || x === undefined ? '—' : (100 * x).toFixed(0) + ' %');

  function setStatus(node, text, kind) {
    node.textContent = text;
    node.className = 'status' + (kind ? ' ' + kind : '');
  }

  function showError(e) {
    state.errors.push(String(e && e.message ? e.message : e));
    const box = $('error');
    box.hidden = false;
    box.textContent = 'Could not load everything: ' + state.errors[state.errors.length - 1];
  }

  function badge(value, text) {
    return el('span', { class: 'badge ' + value, text: text || value });
  }

  // ---------- Header: agreement, replay notice, clock, token ----------

  function header() {
    const a = SERVER.agreement;
    $('agreement').textContent = a.title + ' (' + a.id + ', version ' + a.version + '). Ceasefire in force from ' + when(a.ceasefire_start) + ' UTC.';
    if (SERVER.replay) {
      const r = $('replay');
      r.hidden = false;
      r.textContent = 'Replay: this server plays past data back as if the agreement had been in force: the ceasefire is taken to start on ' +
        when(a.ceasefire_start) + ' UTC' + (SERVER.replay_clock ? ' and the server\'s clock runs from a past instant' : '') +
        '. Nothing here describes events of today; incidents, decisions and obligations are those of the replayed period.';
    }
    tickClock();
  }

  function tickClock() {
    const t = Date.parse(SERVER.clock) + (Date.now() - clockLoaded);
    $('clock').textContent = isNaN(t) ? '?' : when(new Date(t).toISOString()) + ' UTC';
  }

  async function whoami() {
    const w = await api('/api/v1/whoami');
    state.role = w.role;
    state.name = w.name || '';
    $('role').textContent = w.role;
    $('role-name').textContent = w.name ? ' (' + w.name + (w.party ? ', ' + w.party : '') + ')' : '';
    document.body.dataset.role = w.role;
  }

  async function initToken() {
    $('token').value = token;
    try {
      await whoami();
      if (token) setStatus($('token-status'), 'Token accepted.', 'ok');
    } catch (e) {
      // A stored token the server no longer knows: forget it and carry on as the public.
      token = '';
      try { localStorage.removeItem(TOKEN_KEY); } catch (x) { /* storage may be off */ }
      $('token').value = '';
      setStatus($('token-status'), 'The saved token was refused (' + e.message + '); viewing as the public.', 'bad');
      await whoami();
    }
  }

  async function useToken(ev) {
    ev.preventDefault();
    const before = token;
    token = $('token').value.trim();
    try {
      await whoami();
      try {
        if (token) localStorage.setItem(TOKEN_KEY, token); else localStorage.removeItem(TOKEN_KEY);
      } catch (x) { /* storage may be off: the token lasts until the page is left */ }
      setStatus($('token-status'), token ? 'Token accepted: you act as ' + state.role + '.' : 'No token: viewing as the public.', 'ok');
      listen();
      await loadAll();
    } catch (e) {
      token = before;
      setStatus($('token-status'), 'Token refused: ' + e.message, 'bad');
    }
  }

  async function signOut() {
    token = '';
    $('token').value = '';
    try { localStorage.removeItem(TOKEN_KEY); } catch (x) { /* storage may be off */ }
    await whoami();
    setStatus($('token-status'), 'Signed out: viewing as the public.', 'ok');
    listen();
    await loadAll();
  }

  // ---------- Map ----------

  let map = null;
  let firstDay = null;
  let lastDay = null;
  let lineSeq = 0;
  let lineTimer = null;

  const emptyFc = () => ({ type: 'FeatureCollection', features: [] });

  function initMap() {
    return new Promise((resolve, reject) => {
      if (!window.maplibregl) {
        reject(new Error('the map library did not load'));
        return;
      }
      try {
        map = new window.maplibregl.Map({
          container: 'map',
          // No remote source: a plain background and GeoJSON layers from this server
          // (no text labels, so no glyphs are needed).
          style: { version: 8, sources: {}, layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#dfe7ef' } }] },
          bounds: [[22.1, 44.3], [40.3, 52.4]],
          fitBoundsOptions: { padding: 10 },
          attributionControl: { compact: true, customAttribution: 'truce; control maps and fires as the data directory holds them' },
          canvasContextAttributes: { preserveDrawingBuffer: true },
          dragRotate: false,
        });
      } catch (e) {
        reject(new Error('the map needs WebGL, which this browser does not offer (' + e.message + ')'));
        return;
      }
      state.map = map;
      map.addControl(new window.maplibregl.NavigationControl({ showCompass: false }), 'top-right');
      map.addControl(new window.maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
      map.on('error', (e) => showError(new Error('map: ' + (e.error && e.error.message ? e.error.message : 'error'))));
      map.on('load', () => {
        const add = (id, data) => map.addSource(id, { type: 'geojson', data: data || emptyFc() });
        add('regions');
        add('zones');
        add('line');
        add('warfires');
        add('incidents');
        map.addLayer({ id: 'regions-fill', type: 'fill', source: 'regions', paint: { 'fill-color': '#fbfaf6' } });
        map.addLayer({ id: 'regions-line', type: 'line', source: 'regions', paint: { 'line-color': '#9aa5b1', 'line-width': 0.7 } });
        map.addLayer({ id: 'zones-fill', type: 'fill', source: 'zones', paint: { 'fill-color': COLORS.zone, 'fill-opacity': 0.12 } });
        map.addLayer({ id: 'zones-line', type: 'line', source: 'zones', paint: { 'line-color': COLORS.zone, 'line-width': 1, 'line-dasharray': [3, 2] } });
        map.addLayer({ id: 'line', type: 'line', source: 'line', layout: { 'line-join': 'round', 'line-cap': 'round' }, paint: { 'line-color': '#111', 'line-width': 2.4 } });
        map.addLayer({
          id: 'warfires', type: 'circle', source: 'warfires',
          paint: { 'circle-color': COLORS.fire, 'circle-opacity': 0.75, 'circle-radius': ['interpolate', ['linear'], ['zoom'], 5, 1.8, 10, 4] },
        });
        map.addLayer({
          id: 'incidents', type: 'circle', source: 'incidents',
          paint: {
            'circle-color': ['match', ['get', 'confidence'], 'verified', COLORS.verified, 'corroborated', COLORS.corroborated, 'single_source', COLORS.single_source, COLORS.rejected],
            'circle-radius': ['interpolate', ['linear'], ['zoom'], 5, 3, 10, 6.5],
            'circle-stroke-color': '#333', 'circle-stroke-width': 1,
          },
        });
        map.on('click', 'incidents', (e) => popup(e.features[0], e.lngLat));
        map.on('mouseenter', 'incidents', () => { map.getCanvas().style.cursor = 'pointer'; });
        map.on('mouseleave', 'incidents', () => { map.getCanvas().style.cursor = ''; });
        resolve();
      });
    });
  }

  function popup(f, lngLat) {
    const p = f.properties;
    const placement = typeof p.placement === 'string' ? JSON.parse(p.placement) : p.placement || {};
    const box = el('div', {},
      el('strong', { text: p.id }), el('br'),
      badge(p.confidence, CONFIDENCE_TEXT[p.confidence]), ' ', when(p.start) + ' – ' + when(p.end) + ' UTC', el('br'),
      p.where || placementText(placement));
    new window.maplibregl.Popup({ closeButton: true }).setLngLat(lngLat).setDOMContent(box).addTo(map);
  }

  // The contact line's days: from the first control map to the assessment instant.
  async function initSlider() {
    const c = await api('/ogc/collections/contact-line');
    const first = c.extent && c.extent.temporal && c.extent.temporal.interval && c.extent.temporal.interval[0][0];
    const bbox = c.extent && c.extent.spatial && c.extent.spatial.bbox && c.extent.spatial.bbox[0];
    if (bbox && map) map.fitBounds([[bbox[0], bbox[1]], [bbox[2], bbox[3]]], { padding: 10, animate: false });
    const s = $('date');
    if (!first) {
      $('line-info').textContent = 'The agreement\'s geometry has no dated control maps.';
      return;
    }
    firstDay = dayMs(day(Date.parse(first)));
    const nowMs = Date.parse(SERVER.clock) + (Date.now() - clockLoaded);
    lastDay = Math.max(firstDay, dayMs(day(nowMs)));
    s.min = '0';
    s.max = String(Math.round((lastDay - firstDay) / DAY_MS));
    s.value = s.max;
    s.disabled = false;
    s.setAttribute('aria-valuetext', day(lastDay));
    $('date-out').textContent = day(lastDay);
    await loadLine(day(lastDay));
  }

  function sliderDay() {
    return day(firstDay + Number($('date').value) * DAY_MS);
  }

  function onSlider() {
    const d = sliderDay();
    $('date-out').textContent = d;
    $('date').setAttribute('aria-valuetext', d);
    clearTimeout(lineTimer);
    lineTimer = setTimeout(() => { loadLine(d).catch(showError); applyDayFilter(); }, 120);
  }

  // The line in force on day `d`: the latest control map of that day or before.
  async function loadLine(d) {
    const seq = ++lineSeq;
    const fc = await api('/ogc/collections/contact-line/items?datetime=' + encodeURIComponent(d) + '&limit=100');
    if (seq !== lineSeq) return; // a later choice won
    const f = fc.features.length ? fc.features[fc.features.length - 1] : null;
    if (map && map.getSource('line')) map.getSource('line').setData(f ? { type: 'FeatureCollection', features: [f] } : emptyFc());
    state.lineId = f ? String(f.id) : null;
    state.lineDate = d;
    const m = $('map');
    m.dataset.lineId = state.lineId || '';
    m.dataset.lineDate = d;
    $('line-info').textContent = f
      ? 'Line of the control map of ' + f.properties.date + (f.properties.valid_until ? ', in force until ' + when(f.properties.valid_until) + ' UTC' : ', the latest') + '.'
      : 'No control map was in force on ' + d + '.';
    summary();
  }

  function applyDayFilter() {
    if (!map || !map.getLayer('incidents')) return;
    if ($('show-day').checked && firstDay !== null) {
      const lo = dayMs(sliderDay());
      const hi = lo + DAY_MS - 1;
      map.setFilter('incidents', ['all', ['<=', ['get', 't0'], hi], ['>=', ['get', 't1'], lo]]);
      map.setFilter('warfires', ['all', ['<=', ['get', 't'], hi], ['>=', ['get', 't'], lo]]);
    } else {
      map.setFilter('incidents', null);
      map.setFilter('warfires', null);
    }
    summary();
  }

  function visibility() {
    if (!map || !map.getLayer('incidents')) return;
    const vis = (on) => (on ? 'visible' : 'none');
    map.setLayoutProperty('incidents', 'visibility', vis($('show-incidents').checked));
    map.setLayoutProperty('warfires', 'visibility', vis($('show-warfires').checked));
    map.setLayoutProperty('zones-fill', 'visibility', vis($('show-zones').checked));
    map.setLayoutProperty('zones-line', 'visibility', vis($('show-zones').checked));
  }

  let staticLoaded = false;
  let fitted = false;
  async function loadStatic() {
    if (staticLoaded) return;
    const [regions, zones] = await Promise.all([features('/ogc/collections/regions/items?limit=' + PAGE_MAX), features('/ogc/collections/zones/items?limit=' + PAGE_MAX)]);
    map.getSource('regions').setData({ type: 'FeatureCollection', features: regions });
    // Bands along the line have no geometry of their own.
    map.getSource('zones').setData({ type: 'FeatureCollection', features: zones.filter((z) => z.geometry) });
    const bands = zones.filter((z) => !z.geometry).map((z) => z.id + ' (' + z.properties.min_km + '–' + z.properties.max_km + ' km from the line, ' + z.properties.side + ' side)');
    state.bands = bands;
    await initSlider();
    staticLoaded = true;
  }

  async function loadMapData() {
    if (!map) return;
    await loadStatic();
    const [inc, fires] = await Promise.all([
      features('/ogc/collections/incidents/items?limit=' + PAGE_MAX),
      features('/ogc/collections/war-fires/items?limit=' + PAGE_MAX),
    ]);
    for (const f of inc) {
      f.properties.t0 = Date.parse(f.properties.start);
      f.properties.t1 = Date.parse(f.properties.end);
    }
    for (const f of fires) f.properties.t = Date.parse(f.properties.time);
    state.incidents = inc;
    state.warFires = fires;
    map.getSource('incidents').setData({ type: 'FeatureCollection', features: inc });
    map.getSource('warfires').setData({ type: 'FeatureCollection', features: fires });
    const m = $('map');
    m.dataset.incidents = String(inc.length);
    m.dataset.warFires = String(fires.length);
    applyDayFilter();
    if (!fitted && (inc.length || fires.length)) {
      // The first time there is something to show, frame it.
      fitted = true;
      const b = [Infinity, Infinity, -Infinity, -Infinity];
      for (const f of inc.concat(fires)) {
        const [x, y] = f.geometry.coordinates;
        b[0] = Math.min(b[0], x); b[1] = Math.min(b[1], y); b[2] = Math.max(b[2], x); b[3] = Math.max(b[3], y);
      }
      map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 40, maxZoom: 8, animate: false });
    }
    map.once('idle', () => {
      state.mapReady = true;
      m.dataset.ready = 'true';
    });
    map.triggerRepaint();
  }

  function summary() {
    const inDay = $('show-day').checked && firstDay !== null;
    const lo = inDay ? dayMs(sliderDay()) : -Infinity;
    const hi = inDay ? lo + DAY_MS - 1 : Infinity;
    const inc = state.incidents.filter((f) => f.properties.t0 <= hi && f.properties.t1 >= lo);
    const fires = state.warFires.filter((f) => f.properties.t <= hi && f.properties.t >= lo);
    const by = {};
    for (const f of inc) by[f.properties.confidence] = (by[f.properties.confidence] || 0) + 1;
    const parts = Object.keys(CONFIDENCE_TEXT).filter((k) => by[k]).map((k) => by[k] + ' ' + CONFIDENCE_TEXT[k]);
    let t = (inDay ? 'On ' + sliderDay() + ': ' : 'Known at the assessment instant: ') + inc.length + ' incident' + (inc.length === 1 ? '' : 's') +
      (parts.length ? ' (' + parts.join(', ') + ')' : '') + ' and ' + fires.length + ' war-related fire' + (fires.length === 1 ? '' : 's') + '.';
    if (state.role === 'public') t += ' As the public you see verified incidents only.';
    if (state.bands && state.bands.length) t += ' Zones measured from the line, not drawn: ' + state.bands.join('; ') + '.';
    $('map-summary').textContent = t;
  }

  function showOnMap(inc) {
    if (!map) return;
    map.jumpTo({ center: [inc.lon, inc.lat], zoom: 9 });
    $('map').scrollIntoView({ block: 'center' });
    const f = { properties: Object.assign({}, inc) };
    popup(f, [inc.lon, inc.lat]);
  }

  // ---------- Review queue ----------

  let queueSeq = 0;
  let queueRows = [];

  function placementText(p) {
    if (!p) return '';
    const side = p.side && p.side !== 'unknown' ? p.side + ' side' : 'side unknown';
    const dist = p.distance_km === null || p.distance_km === undefined ? '' : ', ' + num(Math.abs(p.distance_km), 1) + ' km from the line';
    const zones = p.zones && p.zones.length ? '; zones: ' + p.zones.join(', ') : '';
    return (p.region || 'outside the regions') + ', ' + side + dist + zones;
  }

  async function allIncidents() {
    const out = [];
    let total = Infinity;
    let at = null;
    for (let offset = 0; offset < total; offset += PAGE_MAX) {
      const r = await api('/api/v1/incidents?limit=' + PAGE_MAX + '&offset=' + offset);
      out.push(...r.incidents);
      total = r.total;
      at = r.at;
      if (!r.incidents.length) break;
    }
    return { incidents: out, at };
  }

  async function loadQueue() {
    const seq = ++queueSeq;
    const note = $('queue-note');
    const table = $('queue');
    if (state.role === 'public') {
      table.hidden = true;
      $('queue-more').hidden = true;
      state.queue = [];
      note.textContent = 'The public sees verified incidents only, so there is nothing to review here. Enter an analyst\'s token above to review incidents.';
      return;
    }
    const { incidents } = await allIncidents();
    if (seq !== queueSeq) return;
    const rank = (i) => [i.violations.length ? 0 : 1, i.confidence === 'corroborated' ? 0 : 1, -Date.parse(i.start)];
    queueRows = incidents.filter((i) => i.confidence === 'single_source' || i.confidence === 'corroborated');
    queueRows.sort((a, b) => {
      const x = rank(a);
      const y = rank(b);
      for (let k = 0; k < x.length; k++) if (x[k] !== y[k]) return x[k] - y[k];
      return a.id < b.id ? -1 : 1;
    });
    state.queue = queueRows.map((i) => i.id);
    note.textContent = state.role === 'analyst'
      ? queueRows.length + ' incident' + (queueRows.length === 1 ? '' : 's') + ' to review.'
      : queueRows.length + ' incident' + (queueRows.length === 1 ? '' : 's') + ' to review. Only an analyst may confirm or reject; this token is a ' + state.role + '\'s.';
    renderQueue();
  }

  function renderQueue() {
    const table = $('queue');
    const tbody = table.tBodies[0];
    tbody.replaceChildren();
    const analyst = state.role === 'analyst';
    for (const inc of queueRows.slice(0, state.queueShown)) {
      const rid = 'reason-' + inc.id.replace(/[^A-Za-z0-9_-]/g, '_');
      const reason = el('input', { id: rid, type: 'text', required: true, maxlength: '4096', disabled: !analyst, placeholder: 'e.g. seen on the patrol\'s camera' });
      const status = el('p', { class: 'status', role: 'status' });
      const confirm = el('button', { type: 'button', class: 'confirm', disabled: !analyst, text: 'Confirm' });
      const reject = el('button', { type: 'button', class: 'reject', disabled: !analyst, text: 'Reject' });
      confirm.setAttribute('aria-label', 'Confirm incident ' + inc.id);
      reject.setAttribute('aria-label', 'Reject incident ' + inc.id);
      confirm.addEventListener('click', () => decide(inc, 'confirm', reason, [confirm, reject], status));
      reject.addEventListener('click', () => decide(inc, 'reject', reason, [confirm, reject], status));
      const rules = inc.violations.length ? inc.violations.map((v) => v.rule + ' (severity ' + v.severity + ')').join(', ') : '—';
      const row = el('tr', { 'data-incident': inc.id },
        el('th', { scope: 'row' }, el('code', { text: inc.id }), el('br'), el('button', { type: 'button', class: 'link', text: 'show on map', onclick: () => showOnMap(inc) })),
        el('td', { text: when(inc.start) + ' – ' + when(inc.end) }),
        el('td', { text: inc.where || placementText(inc.placement) }),
        el('td', {}, badge(inc.confidence, CONFIDENCE_TEXT[inc.confidence])),
        el('td', { text: inc.sources.join(', ') + (inc.war_fire ? ' (war-related fire)' : '') }),
        el('td', { text: rules }),
        el('td', {}, el('div', { class: 'decide' }, el('label', { for: rid, text: 'Reason (required)' }), reason, el('div', { class: 'buttons' }, confirm, reject), status)));
      tbody.append(row);
    }
    table.hidden = queueRows.length === 0;
    $('queue-caption').textContent = 'Incidents awaiting review: ' + Math.min(state.queueShown, queueRows.length) + ' of ' + queueRows.length + ' shown';
    $('queue-more').hidden = queueRows.length <= state.queueShown;
  }

  async function decide(inc, verdict, reasonInput, buttons, status) {
    const reason = reasonInput.value.trim();
    if (!reason) {
      reasonInput.setAttribute('aria-invalid', 'true');
      setStatus(status, 'Give a reason first: every decision carries one.', 'bad');
      reasonInput.focus();
      return;
    }
    reasonInput.removeAttribute('aria-invalid');
    buttons.forEach((b) => { b.disabled = true; });
    setStatus(status, 'Recording…');
    try {
      const r = await api('/api/v1/decisions', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ incident: inc.id, verdict, reason }) });
      const msg = (verdict === 'confirm' ? 'Confirmed ' : 'Rejected ') + inc.id + (r.log_index !== null && r.log_index !== undefined ? '; evidence log entry ' + r.log_index + '.' : '.');
      setStatus($('queue-status'), msg, 'ok');
      await loadAll();
    } catch (e) {
      setStatus(status, 'Not recorded: ' + e.message, 'bad');
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  // ---------- Obligations ----------

  async function loadObligations() {
    const r = await api('/api/v1/obligations');
    state.at = r.at;
    $('instant').textContent = when(r.at) + ' UTC';
    const table = $('obligations');
    const tbody = table.tBodies[0];
    tbody.replaceChildren();
    for (const o of r.obligations) {
      const b = o.because || {};
      const why = el('td', {}, el('div', { text: b.condition || '' }));
      const incs = (b.incidents || []).map((x) => x[0] + (x[1] && x[1].length ? ' (' + x[1].join(', ') + ')' : ''));
      if (incs.length) why.append(el('div', { class: 'hint', text: 'Incidents: ' + incs.join('; ') }));
      if (b.not_public) why.append(el('div', { class: 'hint', text: b.not_public + ' incident(s) not public' }));
      if (b.breached && b.breached.length) why.append(el('div', { class: 'hint', text: 'Breached: ' + b.breached.join(', ') }));
      if (o.lest) why.append(el('div', { class: 'hint', text: 'Otherwise: ' + o.lest }));
      let status = o.status;
      if (o.fulfilled) status += ' ' + when(o.fulfilled);
      if (o.withdrawn) status += ' ' + when(o.withdrawn);
      tbody.append(el('tr', { 'data-obligation': o.id },
        el('th', { scope: 'row', text: o.party }),
        el('td', {}, el('div', { text: o.title }), el('code', { text: o.clause })),
        el('td', { text: o.action }),
        el('td', { text: when(o.deadline) }, el('div', { class: 'hint', text: 'triggered ' + when(o.triggered) })),
        el('td', {}, badge(o.status, status)),
        why));
    }
    table.hidden = r.obligations.length === 0;
    $('obl-note').textContent = r.obligations.length
      ? r.obligations.length + ' obligation' + (r.obligations.length === 1 ? '' : 's') + '; ' + r.obligations.filter((o) => o.status === 'breached').length + ' breached, ' + r.obligations.filter((o) => o.status === 'pending').length + ' pending.'
      : 'No clause has triggered at this instant, so no party owes anything yet.';
  }

  // ---------- Pledges ----------

  // The API's paths, from its description (a test keeps it equal to what the server
  // serves): the page asks only for what exists, so an older server costs no 404.
  let apiPaths = null;
  async function served(path) {
    if (!apiPaths) apiPaths = new Set(Object.keys((await api('/api/v1/openapi.json')).paths || {}));
    return apiPaths.has(path);
  }

  function notAvailable(box, what, e) {
    box.replaceChildren(el('p', { class: 'note', text: e.status === 404 ? 'Not available: this server does not publish ' + what + ' (yet).' : 'Could not load ' + what + ': ' + e.message }));
    box.dataset.state = e.status === 404 ? 'unavailable' : 'error';
  }

  const money = (m, cur) => (m >= 1000 ? (m / 1000).toLocaleString('en-GB', { maximumFractionDigits: 1 }) + ' bn' : num(m, 0) + ' m') + ' ' + (cur || '');

  function bar(ratio, alloc) {
    const b = el('div', { class: 'bar', role: 'img', 'aria-label': 'delivered ' + pct(ratio) + (alloc !== null && alloc !== undefined ? ', allocated ' + pct(alloc) : '') });
    if (alloc !== null && alloc !== undefined) b.append(el('span', { class: 'alloc', style: 'width:' + Math.min(100, 100 * alloc) + '%' }));
    if (ratio !== null && ratio !== undefined) b.append(el('span', { style: 'width:' + Math.min(100, 100 * ratio) + '%' }));
    return b;
  }

  function projectionChart(months, target) {
    const NS = 'http://www.w3.org/2000/svg';
    const W = 640; const H = 200; const L = 56; const B = 24;
    const svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    svg.setAttribute('class', 'chart');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', 'Well-trained troops by month: median with the 10th to 90th percentile band, and the target');
    const max = Math.max(target || 0, ...months.map((m) => m.p90 || 0)) * 1.05 || 1;
    const x = (i) => L + (i * (W - L - 8)) / Math.max(1, months.length - 1);
    const y = (v) => H - B - (v / max) * (H - B - 8);
    const path = (pts) => pts.map((p, i) => (i ? 'L' : 'M') + p[0].toFixed(1) + ' ' + p[1].toFixed(1)).join(' ');
    const mk = (tag, attrs) => { const e = document.createElementNS(NS, tag); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); svg.append(e); return e; };
    const band = months.map((m, i) => [x(i), y(m.p90)]).concat(months.map((m, i) => [x(i), y(m.p10)]).reverse());
    mk('path', { d: path(band) + ' Z', fill: '#9ecae1', opacity: '0.6' });
    mk('path', { d: path(months.map((m, i) => [x(i), y(m.p50)])), fill: 'none', stroke: '#08519c', 'stroke-width': '2' });
    if (target) {
      mk('line', { x1: L, x2: W - 8, y1: y(target), y2: y(target), stroke: '#b42318', 'stroke-dasharray': '5 3' });
      mk('text', { x: L + 4, y: y(target) - 4 }).textContent = 'target ' + num(target);
    }
    mk('line', { x1: L, x2: L, y1: 8, y2: H - B, stroke: '#999' });
    mk('text', { x: 4, y: y(0) }).textContent = '0';
    mk('text', { x: 4, y: y(max / 1.05) + 4 }).textContent = num(max / 1.05);
    mk('text', { x: L, y: H - 6 }).textContent = months[0].month;
    mk('text', { x: W - 60, y: H - 6 }).textContent = months[months.length - 1].month;
    return svg;
  }

  async function loadPledges() {
    const box = $('pledges');
    let r;
    try {
      if (!(await served('/api/v1/pledges'))) throw new HttpError(404, 'no_route', 'not served');
      r = await api('/api/v1/pledges');
    } catch (e) {
      notAvailable(box, 'pledges', e);
      return;
    }
    const f = r.figures || {};
    const cur = f.currency || '';
    const kids = [];
    if (f.total) {
      kids.push(el('dl', { class: 'figures' },
        el('div', {}, el('dt', { text: 'Committed' }), el('dd', { text: money(f.total.committed_m, cur) })),
        el('div', {}, el('dt', { text: 'Allocated' }), el('dd', { text: money(f.total.allocated_m, cur) })),
        el('div', {}, el('dt', { text: 'Delivered' }), el('dd', { text: money(f.total.delivered_m, cur) })),
        el('div', {}, el('dt', { text: 'Delivered / committed' }), el('dd', { text: f.total.committed_m ? pct(f.total.delivered_m / f.total.committed_m) : '—' }))));
    }
    const groups = f.groups || [];
    if (groups.length) {
      const t = el('table', { class: 'grid' },
        el('caption', { text: 'By ' + (f.by || 'group') + ' (' + cur + ' million; the bar: delivered in dark, allocated in light green, of what was committed)' }),
        el('thead', {}, el('tr', {}, ...['Who', 'Pledges', 'Committed', 'Allocated', 'Delivered', 'Delivered of committed', 'Committed, % of GDP'].map((h, i) => el('th', { scope: 'col', class: i > 0 && i !== 5 ? 'num' : null, text: h })))),
        el('tbody', {}, ...groups.map((g) => el('tr', {},
          el('th', { scope: 'row', text: g.name || g.donor || g.category || '?' }),
          el('td', { class: 'num', text: num(g.pledges) }),
          el('td', { class: 'num', text: num(g.committed_m) }),
          el('td', { class: 'num', text: num(g.allocated_m) }),
          el('td', { class: 'num', text: num(g.delivered_m) }),
          el('td', {}, bar(g.delivery_ratio, g.allocation_ratio), el('span', { class: 'hint', text: pct(g.delivery_ratio) })),
          el('td', { class: 'num', text: g.committed_gdp_pct === null || g.committed_gdp_pct === undefined ? '—' : num(g.committed_gdp_pct, 2) })))));
      kids.push(el('div', { class: 'table-wrap' }, t));
    }
    if (f.estimated_share) kids.push(el('p', { class: 'hint', text: pct(f.estimated_share) + ' of the committed value is estimated (no value given in the source).' }));
    const pj = r.projection && (r.projection.projection || r.projection);
    if (pj && pj.reach) {
      const rc = pj.reach;
      kids.push(el('h3', { text: 'Force generation: ' + num(pj.target) + ' well-trained troops' }));
      kids.push(el('p', { text: 'Reached (median) in ' + (rc.p50 || 'not within the projection') + '; 10th–90th percentile: ' + (rc.p10 || '?') + ' – ' + (rc.p90 || 'later') +
        (rc.share_reached !== undefined ? ' (' + pct(rc.share_reached) + ' of runs reach it)' : '') + '. Bottleneck: ' + String(pj.binding || '?').replace(/_/g, ' ') + '.' }));
      if (pj.months && pj.months.length) kids.push(projectionChart(pj.months, pj.target));
      const levers = (r.projection && r.projection.levers) || [];
      if (levers.length) kids.push(el('ul', {}, ...levers.map((l) => el('li', { text: l.lever + ': reached ' + (l.reach_p50 || '?') + ' (' + l.months_earlier + ' month' + (l.months_earlier === 1 ? '' : 's') + ' earlier)' }))));
    } else {
      kids.push(el('p', { class: 'note', text: 'No force-generation projection: the agreement has no [forces] table.' }));
    }
    box.replaceChildren(...kids);
    box.dataset.state = 'loaded';
  }

  // ---------- Reports ----------

  function safeHref(u) {
    try {
      const x = new URL(u, location.href);
      return x.protocol === 'http:' || x.protocol === 'https:' ? x.href : null;
    } catch (e) {
      return null;
    }
  }

  async function openWithToken(href, kind) {
    const w = kind === 'html' || kind === 'pdf' ? window.open('', '_blank') : null;
    if (w) w.opener = null;
    const r = await fetch(href, { headers: { Authorization: 'Bearer ' + token } });
    if (!r.ok) {
      if (w) w.close();
      throw new Error(href + ': ' + r.status + ' ' + r.statusText);
    }
    const url = URL.createObjectURL(await r.blob());
    if (w) {
      w.location.href = url;
    } else {
      const a = el('a', { href: url, download: href.split('/').pop() });
      document.body.append(a);
      a.click();
      a.remove();
    }
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  async function loadReports() {
    const box = $('reports');
    let r;
    try {
      if (!(await served('/api/v1/reports'))) throw new HttpError(404, 'no_route', 'not served');
      r = await api('/api/v1/reports');
    } catch (e) {
      notAvailable(box, 'reports', e);
      return;
    }
    const list = r.reports || [];
    if (!list.length) {
      box.replaceChildren(el('p', { class: 'note', text: 'No report has been published yet.' }));
      box.dataset.state = 'loaded';
      return;
    }
    const names = { html: 'HTML', pdf: 'PDF', md: 'Markdown', json: 'JSON' };
    box.replaceChildren(el('ul', { class: 'reports' }, ...list.map((rep) => {
      const eds = el('span', { class: 'eds' });
      const internal = rep.edition && rep.edition !== 'public';
      for (const k of ['html', 'pdf', 'md', 'json']) {
        const h = rep.editions && safeHref(rep.editions[k]);
        if (!h) continue;
        const a = el('a', { href: h, text: names[k], target: '_blank', rel: 'noopener' });
        // A link sends no token: an internal edition is fetched with it and opened as a blob.
        if (internal && token) a.addEventListener('click', (ev) => { ev.preventDefault(); openWithToken(h, k).catch(showError); });
        eds.append(a);
      }
      const period = rep.period ? when(rep.period.start) + ' – ' + when(rep.period.end) + ' UTC' : '';
      const summary = rep.summary && rep.summary.length ? el('div', { class: 'hint', text: rep.summary.join(' ') }) : null;
      return el('li', { 'data-report': rep.id },
        el('strong', { text: rep.title || rep.id }), ' ',
        el('span', { class: 'badge ' + (internal ? 'pending' : 'fulfilled'), text: internal ? 'internal edition (restricted sources, unverified incidents)' : 'public edition' }), ' ',
        el('span', { class: 'hint', text: period }), summary, eds);
    })));
    box.dataset.state = 'loaded';
  }

  // ---------- Alerts ----------

  // The alerts stream (GET /api/v1/events, server-sent events) read with fetch, which can
  // send the token (EventSource cannot). Each alert is listed and the panels reload
  // shortly after (alerts of one write come together). Reconnects after ALERTS_RETRY_MS.
  const ALERTS_SHOWN = 20;
  const ALERTS_RETRY_MS = 5000;
  const ALERTS_RELOAD_MS = 300;
  let listening = null; // the AbortController of the open stream
  let reloadTimer = null;

  function onAlert(type, data) {
    if (type === 'lagged') {
      setStatus($('alerts-status'), 'Some alerts were missed (the page was too slow); reloading.', 'bad');
    } else {
      let a = null;
      try { a = JSON.parse(data); } catch (e) { return; }
      state.alerts.unshift({ id: a.id, type: a.type, summary: a.summary, at: a.at, object: (a.incident || a.obligation || {}).id });
      state.alerts.length = Math.min(state.alerts.length, ALERTS_SHOWN);
      $('alerts').replaceChildren(...state.alerts.map((x) => el('li', { 'data-type': x.type, 'data-object': x.object || '' },
        badge(x.type.replace('.', '-'), x.type), ' ', el('span', { text: x.summary }), ' ', el('span', { class: 'hint', text: when(x.at) + ' UTC' }))));
    }
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => loadAll().catch(showError), ALERTS_RELOAD_MS);
  }

  async function listen() {
    if (listening) listening.abort();
    const ctl = new AbortController();
    listening = ctl;
    const headers = { Accept: 'text/event-stream' };
    if (token) headers.Authorization = 'Bearer ' + token;
    try {
      const r = await fetch('/api/v1/events', { headers, signal: ctl.signal, cache: 'no-store' });
      if (!r.ok || !r.body) throw new Error('HTTP ' + r.status);
      setStatus($('alerts-status'), 'Listening for alerts as ' + state.role + '.', 'ok');
      state.listening = true;
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      let type = 'message';
      let data = [];
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).replace(/\r$/, '');
          buf = buf.slice(nl + 1);
          if (line === '') {
            if (data.length) onAlert(type, data.join('\n'));
            type = 'message';
            data = [];
          } else if (line.startsWith('event:')) type = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          // `id:` and `:` keep-alive comments need nothing.
        }
      }
    } catch (e) {
      if (ctl.signal.aborted) return;
    }
    if (listening !== ctl) return;
    state.listening = false;
    setStatus($('alerts-status'), 'The alerts stream closed; reconnecting.', 'bad');
    setTimeout(() => { if (listening === ctl) listen(); }, ALERTS_RETRY_MS);
  }

  // ---------- Loading ----------

  let loading = null;
  async function loadAll() {
    // One load at a time; a second request waits for the first and runs again.
    while (loading) await loading.catch(() => {});
    tickClock();
    $('error').hidden = true;
    const run = (f) => f().catch(showError);
    loading = Promise.all([run(loadMapData), run(loadQueue), run(loadObligations), run(loadPledges), run(loadReports)]).then(() => {
      state.loads += 1;
      document.body.dataset.loads = String(state.loads);
      summary();
    });
    try { await loading; } finally { loading = null; }
  }

  async function main() {
    header();
    $('token-form').addEventListener('submit', useToken);
    $('token-clear').addEventListener('click', () => signOut().catch(showError));
    $('refresh').addEventListener('click', () => loadAll().catch(showError));
    $('queue-more').addEventListener('click', () => { state.queueShown += QUEUE_PAGE; renderQueue(); });
    $('date').addEventListener('input', onSlider);
    $('date').addEventListener('change', onSlider);
    for (const id of ['show-incidents', 'show-warfires', 'show-zones']) $(id).addEventListener('change', visibility);
    $('show-day').addEventListener('change', applyDayFilter);
    await initToken().catch(showError);
    await initMap().catch((e) => {
      map = null;
      $('map').textContent = 'No map: ' + e.message;
      showError(e);
    });
    await loadAll();
    listen();
    state.ready = true;
    document.body.dataset.ready = 'true';
  }

  main().catch(showError);
})();
