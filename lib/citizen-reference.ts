/**
 * A citizen as the agencies other than the Resident Information Center see one: the key, and what their
 * resolvers require from residents (`@requires` in their schema.graphql), which the gateway fetches from
 * residents first and passes in the entity representation: every code the person has held (so records
 * filed under a cancelled code are found) and the date of death (so a deceased holder's card is not
 * shown as valid). Both arrive as raw JSON: codes as strings, the date as 'YYYY-MM-DD'.
 */
export interface CitizenReference {
  personalCode: string;
  personalCodes?: readonly string[] | null;
  dateOfDeath?: string | null;
}

/** The codes to look a person's records up under: all they have held, or just the key when not given. */
export function codesOf(citizen: CitizenReference): readonly string[] {
  return citizen.personalCodes && citizen.personalCodes.length > 0 ? citizen.personalCodes : [citizen.personalCode];
}
