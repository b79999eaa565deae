// The statistics page (gateway/statistics-page.ts): an analyst's tables as a table, a chart and a CSV download.
//
// Every table is one GraphQL query to this gateway's /graphql with the pasted token, so the gateway checks,
// audits and budgets it like any other; the page adds nothing and hides nothing: the counts it draws are the
// published (perturbed) counts of the answer, cells not listed are 0. The token is kept in this tab's
// sessionStorage under the IDE's key (one token for both pages in a tab; gone when the tab closes).
// Scales and ticks come from d3-scale (served from node_modules); the bars are SVG rects, each carrying its
// cell (data-category, data-series, data-count) so that what is drawn can be checked against the answer.
(function () {
  'use strict';
  var TOKEN_KEY = 'citizen-graph:token';
  var PURPOSE = 'STATISTICS';
  var SVG = 'http://www.w3.org/2000/svg';
  var AGE_DIMENSIONS = ['AGE_BAND', 'AGE', 'AGE_BAND_AT_DEATH', 'AGE_AT_DEATH'];
  var PYRAMID_SIDES = ['MALE', 'FEMALE']; // left, right: the usual way round
  var byId = function (id) { return document.getElementById(id); };
  var tokenInput = byId('token');
  var caller = byId('caller');
  var about = byId('about');
  var results = byId('results');
  var measureSelect = byId('measure');
  var dimensionSelects = [byId('dimension-1'), byId('dimension-2'), byId('dimension-3')];
  var provinceSelect = byId('province');
  var yearInput = byId('year');
  var asOfInput = byId('as-of');
  var downloadButton = byId('download-csv');
  var page = { measures: [], provinces: [] };
  var requests = 0;

  // ---- the token --------------------------------------------------------------------------------------------
  function claimsOf(token) {
    var parts = token.split('.');
    if (parts.length !== 3) return null;
    try {
      var base64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
      var bytes = Uint8Array.from(atob(base64 + '==='.slice((base64.length + 3) % 4)), function (c) { return c.charCodeAt(0); });
      var claims = JSON.parse(new TextDecoder().decode(bytes));
      return claims && typeof claims === 'object' && !Array.isArray(claims) ? claims : null;
    } catch (error) {
      return null;
    }
  }

  function token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  function showCaller() {
    var value = token();
    tokenInput.value = value || '';
    var claims = value && claimsOf(value);
    caller.className = '';
    if (!value) caller.textContent = 'no token';
    else if (!claims) {
      caller.textContent = 'this is not a token (three base64url parts)';
      caller.className = 'problem';
    } else {
      caller.textContent = (claims.role || '?') + ' for ' + [].concat(claims.purpose || '?').join(', ') + (claims.role === 'ANALYST' ? '' : ' (statistics are for analysts)');
      if (claims.role !== 'ANALYST') caller.className = 'problem';
    }
  }

  tokenInput.addEventListener('input', function () {
    var value = tokenInput.value.trim().replace(/^Bearer\s+/i, '');
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
    showCaller();
  });
  byId('forget').addEventListener('click', function () {
    sessionStorage.removeItem(TOKEN_KEY);
    showCaller();
  });

  function headers(accept) {
    var value = token();
    var result = { 'content-type': 'application/json', accept: accept, authorization: 'Bearer ' + value };
    var claims = claimsOf(value) || {};
    if (Array.isArray(claims.purpose) && claims.purpose.length > 1) result['x-purpose'] = PURPOSE;
    return result;
  }

  // ---- the choice of table -------------------------------------------------------------------------------------
  function option(value, text) {
    var element = document.createElement('option');
    element.value = value;
    element.textContent = text;
    return element;
  }

  function measure() {
    return page.measures.find(function (m) { return m.field === measureSelect.value; });
  }

  function fillDimensions() {
    var m = measure();
    dimensionSelects.forEach(function (select, i) {
      var kept = select.value;
      select.replaceChildren.apply(select, (i === 0 ? [] : [option('', '—')]).concat(m.dimensions.map(function (d) {
        var element = option(d.name, d.name);
        element.title = d.description;
        return element;
      })));
      if (m.dimensions.some(function (d) { return d.name === kept; })) select.value = kept;
    });
    byId('province-field').hidden = !m.provinceDimension;
    byId('year-field').hidden = !m.yearDimension;
  }

  function choose(field, dimensions) {
    measureSelect.value = field;
    fillDimensions();
    dimensionSelects.forEach(function (select, i) { select.value = dimensions[i] || ''; });
  }

  byId('preset-pyramid').addEventListener('click', function () {
    choose('populationStatistics', ['AGE_BAND', 'SEX']);
    if (!provinceSelect.value) provinceSelect.value = page.provinces[0].code;
    show();
  });
  byId('preset-births').addEventListener('click', function () {
    choose('birthStatistics', ['BIRTH_MONTH']);
    if (!yearInput.value) yearInput.value = String(new Date().getUTCFullYear() - 1);
    show();
  });
  measureSelect.addEventListener('change', fillDimensions);
  byId('query').addEventListener('submit', function (event) {
    event.preventDefault();
    show();
  });
  downloadButton.addEventListener('click', download);

  /** The GraphQL request of the chosen table: one field, its arguments as variables. */
  function request() {
    var m = measure();
    var groupBy = dimensionSelects.map(function (s) { return s.value; }).filter(Boolean);
    var filter = [];
    if (m.provinceDimension && provinceSelect.value) filter.push({ dimension: m.provinceDimension, values: [provinceSelect.value] });
    if (m.yearDimension && yearInput.value) filter.push({ dimension: m.yearDimension, values: [yearInput.value] });
    var variables = { groupBy: groupBy };
    if (m.filterType && filter.length) variables.filter = filter;
    if (asOfInput.value) variables.asOf = asOfInput.value;
    var query =
      'query StatisticsPage($groupBy: [' + m.groupByType + '!]!' + (m.filterType ? ', $filter: [' + m.filterType + '!]' : '') + ', $asOf: Date) {\n' +
      '  ' + m.field + '(groupBy: $groupBy' + (m.filterType ? ', filter: $filter' : '') + ', asOf: $asOf) {\n' +
      '    measure dimensions asOf dataAsOf total\n' +
      '    cells { values { dimension code label } count }\n' +
      '    disclosure { method threshold maxPerturbation note }\n  }\n}';
    return { field: m.field, body: JSON.stringify({ query: query, variables: variables }) };
  }

  function problemOf(answer, status) {
    var error = (answer && answer.errors && answer.errors[0]) || { message: 'HTTP ' + status };
    var extensions = error.extensions || {};
    return error.message + (extensions.code ? ' (' + extensions.code + (extensions.reason ? ' / ' + extensions.reason : '') + ')' : '');
  }

  function say(text, problem) {
    about.textContent = text;
    about.className = problem ? 'problem' : '';
  }

  function show() {
    if (!token()) return say('Paste a token first.', true);
    var asked = request();
    var sequence = ++requests;
    results.dataset.state = 'loading';
    say('Asking…');
    fetch('/graphql', { method: 'POST', headers: headers('application/graphql-response+json, application/json'), body: asked.body })
      .then(function (response) {
        return response.json().then(
          function (answer) { return { status: response.status, answer: answer }; },
          function () { return { status: response.status, answer: null }; },
        );
      })
      .then(function (reply) {
        if (sequence !== requests) return; // a later choice is on its way
        var table = reply.answer && reply.answer.data && reply.answer.data[asked.field];
        if (!table) {
          clear();
          results.dataset.state = 'error';
          return say(problemOf(reply.answer, reply.status), true);
        }
        draw(table);
        downloadButton.disabled = false;
        results.dataset.state = 'shown';
        results.dataset.shown = String(sequence);
      })
      .catch(function (error) {
        if (sequence !== requests) return;
        results.dataset.state = 'error';
        say('The gateway did not answer: ' + error.message, true);
      });
  }

  /** The same table as CSV (Accept: text/csv): another request, so checked, audited and counted again. */
  function download() {
    if (!token()) return say('Paste a token first.', true);
    var asked = request();
    fetch('/graphql', { method: 'POST', headers: headers('text/csv'), body: asked.body }).then(function (response) {
      if (!(response.headers.get('content-type') || '').startsWith('text/csv')) {
        return response.json().then(function (answer) { say(problemOf(answer, response.status), true); }, function () { say('HTTP ' + response.status, true); });
      }
      var name = /filename="?([^";]+)"?/.exec(response.headers.get('content-disposition') || '');
      return response.blob().then(function (blob) {
        var link = document.createElement('a');
        link.href = URL.createObjectURL(blob);
        link.download = name ? name[1] : asked.field + '.csv';
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
      });
    });
  }

  // ---- the table -----------------------------------------------------------------------------------------------
  function clear() {
    byId('chart').replaceChildren();
    byId('table').replaceChildren();
    downloadButton.disabled = true;
  }

  function cellText(value) {
    return value.label ? value.label + (value.label === value.code ? '' : ' (' + value.code + ')') : value.code;
  }

  function draw(table) {
    var d = table.disclosure;
    say(
      table.measure + ' by ' + table.dimensions.join(' × ') + ' on ' + table.asOf + '; data as of ' + (table.dataAsOf || 'unknown') +
        '. Total ' + d3.format(',')(table.total) + '. ' + d.note + ' (' + d.method + ': counts 1–' + d.threshold + ' never shown; others moved by up to ±' + d.maxPerturbation + '.)',
    );
    drawTable(table);
    drawChart(table);
  }

  function drawTable(table) {
    var element = byId('table');
    var head = document.createElement('tr');
    table.dimensions.concat(['count']).forEach(function (name, i) {
      var th = document.createElement('th');
      th.textContent = name;
      if (i === table.dimensions.length) th.className = 'count';
      head.appendChild(th);
    });
    var rows = table.cells.map(function (cell) {
      var tr = document.createElement('tr');
      cell.values.forEach(function (value) {
        var td = document.createElement('td');
        td.textContent = cellText(value);
        tr.appendChild(td);
      });
      var count = document.createElement('td');
      count.className = 'count';
      count.textContent = d3.format(',')(cell.count);
      tr.appendChild(count);
      return tr;
    });
    element.replaceChildren.apply(element, [head].concat(rows));
  }

  // ---- the chart -----------------------------------------------------------------------------------------------
  /** Categories in a reading order: numbers by value (0-4 before 10-14), then the rest, NONE and ABROAD last. */
  function compareCodes(a, b) {
    var special = function (c) { return c === 'NONE' || c === 'ABROAD' ? 1 : 0; };
    if (special(a) !== special(b)) return special(a) - special(b);
    var na = parseInt(a, 10);
    var nb = parseInt(b, 10);
    if (!isNaN(na) && !isNaN(nb) && na !== nb) return na - nb;
    return a < b ? -1 : a > b ? 1 : 0;
  }

  function svgElement(name, attributes, text) {
    var element = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) { element.setAttribute(key, attributes[key]); });
    if (text !== undefined) element.textContent = text;
    return element;
  }

  /**
   * The values of dimension i along an axis, sorted, with their labels: those of the cells, and the months or
   * five-year bands between them that have none (published 0), so that a gap shows as a gap.
   */
  function valuesOf(table, i) {
    var seen = {};
    table.cells.forEach(function (cell) { seen[cell.values[i].code] = cell.values[i]; });
    var codes = Object.keys(seen);
    gapsOf(codes).forEach(function (code) { if (!seen[code]) seen[code] = { code: code, label: null }; });
    return Object.keys(seen).sort(compareCodes).map(function (code) { return seen[code]; });
  }

  /** Every month of the years of YYYY-MM codes, or every 5-year band up to the oldest of age bands; else none. */
  function gapsOf(codes) {
    var gaps = [];
    if (codes.length && codes.every(function (c) { return /^\d{4}-\d{2}$/.test(c); })) {
      var years = codes.map(function (c) { return Number(c.slice(0, 4)); });
      for (var year = Math.min.apply(null, years); year <= Math.max.apply(null, years); year++) {
        for (var month = 1; month <= 12; month++) gaps.push(year + '-' + (month < 10 ? '0' : '') + month);
      }
    } else if (codes.length && codes.every(function (c) { return /^\d+-\d+$|^100\+$/.test(c); })) {
      var oldest = Math.max.apply(null, codes.map(function (c) { return parseInt(c, 10); }));
      for (var from = 0; from <= Math.min(oldest, 95); from += 5) gaps.push(from + '-' + (from + 4));
      if (oldest >= 100) gaps.push('100+');
    }
    return gaps;
  }

  function bar(svg, cell, category, series, seriesIndex, box) {
    var rect = svgElement('rect', {
      class: 'bar s' + (seriesIndex % 4),
      x: box.x.toFixed(2), y: box.y.toFixed(2), width: box.width.toFixed(2), height: box.height.toFixed(2),
      'data-category': category, 'data-series': series, 'data-count': String(cell.count),
    });
    rect.appendChild(svgElement('title', {}, category + (series ? ', ' + series : '') + ': ' + d3.format(',')(cell.count)));
    svg.appendChild(rect);
  }

  function legend(svg, series, x, y) {
    series.forEach(function (value, i) {
      svg.appendChild(svgElement('rect', { x: x, y: y + i * 16, width: 10, height: 10, class: 'bar s' + (i % 4) }));
      svg.appendChild(svgElement('text', { x: x + 14, y: y + i * 16 + 9, class: 'legend' }, cellText(value)));
    });
  }

  function drawChart(table) {
    var chart = byId('chart');
    var dimensions = table.dimensions;
    var age = dimensions.findIndex(function (d) { return AGE_DIMENSIONS.indexOf(d) >= 0; });
    var sex = dimensions.indexOf('SEX');
    var svg;
    if (dimensions.length === 2 && age >= 0 && sex >= 0) svg = pyramid(table, age, sex);
    else if (dimensions.length <= 2) svg = bars(table);
    else {
      var note = document.createElement('p');
      note.textContent = 'A chart shows one or two dimensions (two: the second as coloured series); the table has them all.';
      return chart.replaceChildren(note);
    }
    chart.replaceChildren(svg);
  }

  /** Age × sex: a bar per age and sex, men to the left of the axis, women to the right, the oldest on top. */
  function pyramid(table, age, sex) {
    var ages = valuesOf(table, age).reverse();
    var rowHeight = Math.max(6, Math.min(18, 480 / Math.max(ages.length, 1)));
    var margin = { top: 28, right: 20, bottom: 30, left: 70 };
    var half = 260;
    var height = margin.top + ages.length * rowHeight + margin.bottom;
    var center = margin.left + half;
    var max = Math.max(1, d3.max(table.cells, function (c) { return c.count; }));
    var x = d3.scaleLinear().domain([0, max]).nice().range([0, half]);
    var y = d3.scaleBand().domain(ages.map(function (v) { return v.code; })).range([margin.top, height - margin.bottom]).padding(0.12);
    var svg = svgElement('svg', { width: center + half + margin.right, height: height, role: 'img', class: 'pyramid', 'data-chart': 'pyramid' });
    svg.appendChild(svgElement('title', {}, 'Population pyramid: ' + table.dimensions.join(' × ')));
    table.cells.forEach(function (cell) {
      var side = PYRAMID_SIDES.indexOf(cell.values[sex].code);
      var width = x(cell.count);
      var category = cell.values[age].code;
      bar(svg, cell, category, cell.values[sex].code, Math.max(side, 0), {
        x: side === 0 ? center - width : center, y: y(category), width: width, height: y.bandwidth(),
      });
    });
    ages.forEach(function (value) {
      svg.appendChild(svgElement('text', { x: margin.left - 6, y: y(value.code) + y.bandwidth() / 2 + 4, 'text-anchor': 'end' }, value.code));
    });
    var format = d3.format('~s');
    x.ticks(4).forEach(function (tick) {
      [center - x(tick), center + x(tick)].forEach(function (at, i) {
        if (i === 1 && tick === 0) return;
        svg.appendChild(svgElement('line', { x1: at, x2: at, y1: height - margin.bottom, y2: height - margin.bottom + 4, class: 'axis', stroke: '#999' }));
        svg.appendChild(svgElement('text', { x: at, y: height - margin.bottom + 16, 'text-anchor': 'middle' }, format(tick)));
      });
    });
    svg.appendChild(svgElement('line', { x1: center, x2: center, y1: margin.top, y2: height - margin.bottom, stroke: '#999' }));
    svg.appendChild(svgElement('text', { x: center - 8, y: 16, 'text-anchor': 'end', class: 'legend' }, '← MALE'));
    svg.appendChild(svgElement('text', { x: center + 8, y: 16, class: 'legend' }, 'FEMALE →'));
    return svg;
  }

  /** One dimension: a bar per value; two: a group of bars per value of the first, one per value of the second. */
  function bars(table) {
    var categories = valuesOf(table, 0);
    var series = table.dimensions.length === 2 ? valuesOf(table, 1) : [];
    var margin = { top: 16, right: 120, bottom: 70, left: 56 };
    var plotWidth = Math.max(320, Math.min(900, categories.length * Math.max(series.length, 1) * 14));
    var height = 360;
    var max = Math.max(1, d3.max(table.cells, function (c) { return c.count; }));
    var x = d3.scaleBand().domain(categories.map(function (v) { return v.code; })).range([margin.left, margin.left + plotWidth]).padding(0.15);
    var inner = d3.scaleBand().domain(series.length ? series.map(function (v) { return v.code; }) : ['']).range([0, x.bandwidth()]).padding(0.05);
    var y = d3.scaleLinear().domain([0, max]).nice().range([height - margin.bottom, margin.top]);
    var svg = svgElement('svg', { width: margin.left + plotWidth + margin.right, height: height, role: 'img', class: 'bars', 'data-chart': 'bars' });
    svg.appendChild(svgElement('title', {}, table.measure + ' by ' + table.dimensions.join(' × ')));
    var format = d3.format('~s');
    y.ticks(5).forEach(function (tick) { // under the bars
      svg.appendChild(svgElement('line', { x1: margin.left - 4, x2: margin.left + plotWidth, y1: y(tick), y2: y(tick), stroke: tick === 0 ? '#999' : '#eee' }));
      svg.appendChild(svgElement('text', { x: margin.left - 6, y: y(tick) + 4, 'text-anchor': 'end' }, format(tick)));
    });
    table.cells.forEach(function (cell) {
      var category = cell.values[0].code;
      var s = series.length ? cell.values[1].code : '';
      bar(svg, cell, category, s, series.length ? series.findIndex(function (v) { return v.code === s; }) : 0, {
        x: x(category) + inner(s), y: y(cell.count), width: inner.bandwidth(), height: y(0) - y(cell.count),
      });
    });
    var every = Math.ceil(categories.length / 40);
    categories.forEach(function (value, i) {
      if (i % every) return;
      var at = x(value.code) + x.bandwidth() / 2;
      svg.appendChild(svgElement('text', { x: at, y: height - margin.bottom + 10, 'text-anchor': 'end', transform: 'rotate(-55 ' + at + ' ' + (height - margin.bottom + 10) + ')' }, value.code));
    });
    if (series.length) legend(svg, series, margin.left + plotWidth + 12, margin.top);
    return svg;
  }

  // ---- start ---------------------------------------------------------------------------------------------------
  showCaller();
  fetch('/statistics/page.json')
    .then(function (response) { return response.json(); })
    .then(function (data) {
      page = data;
      measureSelect.replaceChildren.apply(measureSelect, page.measures.map(function (m) {
        var element = option(m.field, m.field.replace(/Statistics$/, ''));
        element.title = m.description;
        return element;
      }));
      provinceSelect.replaceChildren.apply(provinceSelect, [option('', 'all provinces')].concat(page.provinces.map(function (p) {
        return option(p.code, p.code + ' ' + p.name);
      })));
      fillDimensions();
      document.body.dataset.ready = 'true';
    })
    .catch(function (error) { say('Could not load the page\u2019s measures: ' + error.message, true); });
})();
