// Starts GraphiQL against this gateway. Every file comes from this process: nothing loads from a CDN.
//
// The token is pasted once, kept in this tab's sessionStorage (gone when the tab closes; never in
// localStorage, where GraphiQL keeps the editors' text) and sent as Authorization with every request, the
// schema's introspection included; a token that names several purposes gets a choice, sent as x-purpose.
// Without a token nothing is sent: the page asks for one instead of opening on an UNAUTHENTICATED error.
// The IDE opens with the example of the token's role and purpose (/ide/examples.json, from operations/).
(function () {
  'use strict';
  var TOKEN_KEY = 'citizen-graph:token';
  var PURPOSE_KEY = 'citizen-graph:purpose';
  var APPLIED_KEY = 'citizen-graph:example-applied';

  var tokenInput = document.getElementById('token');
  var purposeField = document.getElementById('purpose-field');
  var purposeSelect = document.getElementById('purpose');
  var caller = document.getElementById('caller');
  var root = ReactDOM.createRoot(document.getElementById('ide'));
  var examples = fetch('/ide/examples.json').then(function (response) {
    return response.ok ? response.json() : { examples: {}, examplePersonalCode: null };
  });
  var pageCode = new URLSearchParams(location.search).get('code');
  if (!/^\d{12}$/.test(pageCode || '')) pageCode = null;

  /** The token's claims, read (not verified: the gateway does that) to know the role and purposes. */
  function claimsOf(token) {
    var parts = token.split('.');
    if (parts.length !== 3) return null;
    try {
      var base64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
      var bytes = Uint8Array.from(atob(base64 + '==='.slice((base64.length + 3) % 4)), function (c) {
        return c.charCodeAt(0);
      });
      var claims = JSON.parse(new TextDecoder().decode(bytes));
      return claims && typeof claims === 'object' && !Array.isArray(claims) ? claims : null;
    } catch (error) {
      return null;
    }
  }

  function purposesOf(claims) {
    if (!claims) return [];
    if (typeof claims.purpose === 'string') return [claims.purpose];
    return Array.isArray(claims.purpose) ? claims.purpose.filter(function (p) { return typeof p === 'string'; }) : [];
  }

  function storedToken() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  /** The purpose chosen for a token with several, else its only one. */
  function chosenPurpose(claims) {
    var purposes = purposesOf(claims);
    var stored = sessionStorage.getItem(PURPOSE_KEY);
    return purposes.indexOf(stored) >= 0 ? stored : purposes[0] || null;
  }

  function credentialHeaders() {
    var token = storedToken();
    if (!token) return {};
    var headers = { authorization: 'Bearer ' + token };
    var claims = claimsOf(token);
    if (purposesOf(claims).length > 1) headers['x-purpose'] = chosenPurpose(claims);
    return headers;
  }

  var baseFetcher = GraphiQL.createFetcher({ url: '/graphql' });
  // Headers typed in GraphiQL's Headers tab come last: they override the token field for one try.
  function fetcher(params, options) {
    var headers = Object.assign(credentialHeaders(), (options && options.headers) || {});
    return baseFetcher(params, Object.assign({}, options, { headers: headers }));
  }

  function describe(claims) {
    var parts = [claims.role + (claims.agency ? ' of ' + claims.agency : '')];
    if (claims.personal_code) parts.push(claims.personal_code);
    if (typeof claims.sub === 'string') parts.push(claims.sub);
    if (typeof claims.exp === 'number') {
      var left = claims.exp * 1000 - Date.now();
      parts.push(left > 0 ? 'expires ' + new Date(claims.exp * 1000).toLocaleTimeString() : 'EXPIRED: make a new token');
    }
    return parts.join(' · ');
  }

  function showCaller(text, problem) {
    caller.textContent = text;
    caller.className = problem ? 'problem' : '';
  }

  function showPurposes(claims) {
    var purposes = purposesOf(claims);
    purposeField.hidden = purposes.length < 2;
    purposeSelect.replaceChildren.apply(
      purposeSelect,
      purposes.map(function (purpose) {
        var option = document.createElement('option');
        option.value = option.textContent = purpose;
        return option;
      }),
    );
    if (purposes.length) purposeSelect.value = chosenPurpose(claims);
  }

  /** The example of the token's role and purpose, its personal codes filled in (a citizen's own code). */
  function exampleFor(data, claims, purpose) {
    var byRole = data.examples || {};
    var example = byRole[claims.role + ':' + purpose];
    if (!example) {
      var key = Object.keys(byRole).filter(function (k) { return k.indexOf(claims.role + ':') === 0; })[0];
      example = key ? byRole[key] : null;
    }
    if (!example) return null;
    var code = (claims.role === 'CITIZEN' && claims.personal_code) || pageCode || data.examplePersonalCode;
    var variables = JSON.parse(example.variables);
    example.personalCodeVariables.forEach(function (v) {
      variables[v.name] = v.list ? [code] : code;
    });
    return { name: example.name, query: example.query, variables: JSON.stringify(variables, null, 2), code: code };
  }

  function welcome() {
    var h = React.createElement;
    return h(
      'div',
      { className: 'cg-welcome' },
      h('h1', null, 'Citizen Graph — GraphQL IDE'),
      h('p', null, 'Paste a bearer token in the field above. It stays in this browser tab only and goes with every request; the IDE then opens with the example operation of the token\u2019s role.'),
      h('p', null, h('code', null, 'npm start'), ' prints a clerk\u2019s token; ', h('code', null, 'npm run -s token -- --role CITIZEN --personal-code 001200342514 --purpose OWN_DATA'), ' makes others (see the README).'),
    );
  }

  function render() {
    var token = storedToken();
    var claims = token ? claimsOf(token) : null;
    showPurposes(claims);
    if (!token || !claims) {
      showCaller(token ? 'This is not a token (a JWT has three parts separated by dots).' : 'No token: nothing is sent.', Boolean(token));
      root.render(welcome());
      return;
    }
    showCaller(describe(claims), typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now());
    var purpose = chosenPurpose(claims);
    examples.then(function (data) {
      var example = exampleFor(data, claims, purpose);
      var props = { fetcher: fetcher, defaultEditorToolsVisibility: 'variables', shouldPersistHeaders: false };
      if (example) {
        props.defaultTabs = [{ query: example.query, variables: example.variables }];
        // A new caller (role, purpose, code) gets their example in a tab; the same caller after a reload keeps their tabs.
        var applied = [claims.role, purpose, example.code].join(':');
        if (sessionStorage.getItem(APPLIED_KEY) !== applied) {
          props.query = example.query;
          props.variables = example.variables;
          sessionStorage.setItem(APPLIED_KEY, applied);
        }
      }
      // A new key mounts a new GraphiQL: it fetches the schema again, with the new token.
      root.render(React.createElement(GraphiQL, Object.assign({ key: token + '|' + purpose }, props)));
    });
  }

  tokenInput.value = storedToken() || '';
  tokenInput.addEventListener('input', function () {
    var token = tokenInput.value.trim().replace(/^Bearer\s+/i, '');
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
    render();
  });
  purposeSelect.addEventListener('change', function () {
    sessionStorage.setItem(PURPOSE_KEY, purposeSelect.value);
    render();
  });
  document.getElementById('forget').addEventListener('click', function () {
    [TOKEN_KEY, PURPOSE_KEY, APPLIED_KEY].forEach(function (key) { sessionStorage.removeItem(key); });
    tokenInput.value = '';
    render();
  });
  document.getElementById('credentials').addEventListener('submit', function (event) {
    event.preventDefault();
  });
  render();
})();
