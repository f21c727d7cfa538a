/**
 * Structured logging and metrics (Powertools), one instance per process. Never log names, UPNs,
 * dates of birth or marks: log identifiers of returns, schools and counts only.
 */
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({ serviceName: 'attendance-hub' });
