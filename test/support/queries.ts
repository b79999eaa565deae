/**
 * The operations the tests (and the bench harness) send: what a service-counter frontend asks.
 */
export const CITIZEN_FIELDS = /* GraphQL */ `
  personalCode fullName otherNames dateOfBirth sex ethnicity religion nationality placeOfOrigin bloodGroup
  maritalStatus dateOfDeath deceased
  personalCodeCheck { provinceCode provinceName registeredAbroad sex birthYear consistent discrepancies }
  permanentResidence { kind status from to address { provinceCode provinceName district ward street } }
  temporaryResidences { kind status from address { provinceName street } }
  household { relationshipToHead from household { number address { provinceName street } } }
  identityCard { number kind status issuedOn expiresOn issuingAuthority }
  identityCards { number kind status issuedOn replacedBy { number kind } }
  legacyIdNumbers
  birthRegistration {
    registrationNumber registeredOn registeringAuthority registrationProvinceCode registrationProvinceName placeOfBirth
    childName childSex childDateOfBirth
    father { name nationality citizen { personalCode } }
    mother { name nationality citizen { personalCode } }
  }
  parents { personalCode }
  children { personalCode }
`;

/** The unified view as a service counter (a clerk) may see it: everything but the sensitive fields. */
export const COUNTER_CITIZEN = /* GraphQL */ `
  query CounterCitizen($code: PersonalCode!) {
    citizen(personalCode: $code) { ${CITIZEN_FIELDS.replace(/\b(ethnicity|religion|bloodGroup|maritalStatus)\b/g, '')} }
  }
`;

export const UNIFIED_CITIZEN = /* GraphQL */ `
  query UnifiedCitizen($code: PersonalCode!) {
    citizen(personalCode: $code) { ${CITIZEN_FIELDS} }
  }
`;

export const CITIZEN_LIST = /* GraphQL */ `
  query CitizenList($codes: [PersonalCode!]!) {
    citizens(personalCodes: $codes) { ${CITIZEN_FIELDS} }
  }
`;

export const HOUSEHOLD = /* GraphQL */ `
  query Household($number: String!) {
    household(number: $number) {
      number establishedOn
      address { provinceCode provinceName district ward street }
      head { personalCode fullName }
      members {
        relationshipToHead from
        citizen {
          personalCode fullName dateOfBirth sex
          identityCard { number kind status }
          identityCards { number status }
          birthRegistration { registrationNumber registeredOn }
          parents { personalCode }
          children { personalCode }
        }
      }
    }
  }
`;

export const BY_IDENTITY_CARD = /* GraphQL */ `
  query ByIdentityCard($number: String!) {
    citizenByIdentityCard(number: $number) {
      personalCode fullName dateOfBirth legacyIdNumbers
      identityCard { number kind status }
      permanentResidence { address { provinceName } }
    }
  }
`;
