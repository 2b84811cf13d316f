export const DEFAULT_PRODUCTION_CONFIG: string;
export interface ProductionSettings {
  name: string;
  hostname: string | null;
  workersDev: boolean;
  from: string;
  transport: string;
  database: string;
  namespaces?: string[];
  vars?: Record<string, string>;
}
export function previousSettings(file: string): Partial<ProductionSettings>;
export function localConfig(): Record<string, any>;
export function writeProductionConfig(
  file: string,
  settings: ProductionSettings,
  target: { origin: string; databaseId: string },
): { file: string; config: Record<string, any> };
