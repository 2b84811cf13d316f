export const DEFAULT_PRODUCTION_CONFIG: string;
export const D1_LOCATIONS: string[];
export const COORDINATOR_LOCATIONS: string[];
export interface ProductionSettings {
  name: string;
  hostname: string | null;
  workersDev: boolean;
  from: string;
  transport: string;
  database: string;
  namespaces?: string[];
  vars?: Record<string, string>;
  /** COORDINATOR_LOCATION_HINT: a Durable Object location hint, or '' for none. */
  coordinatorLocation?: string;
}
export function previousSettings(file: string): Partial<ProductionSettings>;
export function localConfig(): Record<string, any>;
export function writeProductionConfig(
  file: string,
  settings: ProductionSettings,
  target: { origin: string; databaseId: string },
): { file: string; config: Record<string, any> };
