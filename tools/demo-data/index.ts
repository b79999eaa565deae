/** The synthetic demo population: a deterministic generator and a COPY-based seeder for the three agency databases. */
export { generatePopulation, DEFAULT_REFERENCE_DATE, MAX_HOUSEHOLD_SIZE, type PopulationOptions } from './generator';
export { seedPopulation, type SeedOptions, type SeedPools, type SeedTotals } from './seed';
export * from './rows';
