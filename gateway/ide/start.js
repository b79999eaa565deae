// Starts GraphiQL against this gateway. Every file comes from this process: nothing loads from a CDN.
(function () {
  var defaultQuery = [
    '# Citizen Graph: one citizen, from the three agencies.',
    '# Put a personal code in the variables below (npm start prints one).',
    'query UnifiedCitizen($code: PersonalCode!) {',
    '  citizen(personalCode: $code) {',
    '    personalCode fullName dateOfBirth sex',
    '    personalCodeCheck { provinceName consistent discrepancies }',
    '    permanentResidence { address { street ward district provinceName } from }',
    '    household { relationshipToHead household { number } }',
    '    identityCard { number kind status expiresOn }',
    '    birthRegistration { registrationNumber registeredOn registrationProvinceName }',
    '    parents { personalCode fullName }',
    '    children { personalCode fullName }',
    '  }',
    '}',
  ].join('\n');
  var fetcher = GraphiQL.createFetcher({ url: '/graphql' });
  var root = ReactDOM.createRoot(document.getElementById('ide'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      defaultVariableEditorOpen: true,
    }),
  );
})();
