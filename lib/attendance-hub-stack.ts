import { CfnOutput, Duration, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Api } from './api.js';
import { Auth, WEB_SCOPES } from './auth.js';
import { type DeploymentSettings, readDeploymentSettings } from './deployment-settings.js';
import { IngestPipeline } from './ingest-pipeline.js';
import { Monitoring } from './monitoring.js';
import { Notifications } from './notifications.js';
import { Schedules } from './schedules.js';
import { Storage } from './storage.js';
import { WebHosting } from './web-hosting.js';

/**
 * One LA's Attendance Hub (docs/design.md §3), in the LA's own AWS account. Settings come from CDK
 * context (see deployment-settings.ts and docs/deploying.md).
 */
export class AttendanceHubStack extends Stack {
  readonly settings: DeploymentSettings;
  readonly storage: Storage;
  readonly pipeline: IngestPipeline;
  readonly schedules: Schedules;
  readonly auth: Auth;
  readonly api: Api;
  readonly monitoring: Monitoring;
  readonly web: WebHosting;
  /** Alerts by e-mail (issue 19): only with context `notificationsFrom` (docs/deploying.md). */
  readonly notifications: Notifications | undefined;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.settings = readDeploymentSettings(this.node);
    const { settings } = this;

    Tags.of(this).add('service', 'attendance-hub');
    Tags.of(this).add('la-code', settings.laCode);

    this.storage = new Storage(this, 'Storage', { webOrigins: settings.webOrigins });
    this.pipeline = new IngestPipeline(this, 'IngestPipeline', { storage: this.storage, settings });
    this.schedules = new Schedules(this, 'Schedules', {
      storage: this.storage,
      environment: this.pipeline.environment,
    });
    // The web app's hosting comes first: the app client's callback URLs are its address.
    this.web = new WebHosting(this, 'Web', { accessLogs: this.storage.accessLogs });
    this.auth = new Auth(this, 'Auth', { web: { url: this.web.url, domainPrefix: settings.authDomainPrefix } });
    this.api = new Api(this, 'Api', {
      storage: this.storage,
      auth: this.auth,
      environment: this.pipeline.environment,
      patterns: this.schedules.patterns,
      webOrigins: settings.webOrigins,
    });

    this.web.deploy({
      apiBase: this.api.url.replace(/\/$/, ''),
      laName: settings.laName,
      cognito: {
        domain: this.auth.domainName as string,
        clientId: this.auth.client.userPoolClientId,
        redirectUri: `${this.web.url}/`,
        logoutUri: `${this.web.url}/?signed-out=1`,
        scopes: [...WEB_SCOPES],
      },
    });

    this.notifications = settings.notifications
      ? new Notifications(this, 'Notifications', {
          storage: this.storage,
          environment: this.pipeline.environment,
          from: settings.notifications.from,
          identity: settings.notifications.identity,
          appUrl: this.web.url,
        })
      : undefined;

    this.monitoring = new Monitoring(this, 'Monitoring', { alarmEmail: settings.alarmEmail });
    const m = this.monitoring;
    m.alarmOnDeadLetters('IngestDeadLetters', this.pipeline.ingestDeadLetters, 'A return');
    m.alarmOnDeadLetters('RollupDeadLetters', this.pipeline.rollupDeadLetters, 'An LA-wide rollup');
    m.alarmOnDeadLetters(
      'ReceiveFailures',
      this.pipeline.receiveFailures,
      'A stored return that could not be queued for ingest',
    );
    // A school's return should be applied within seconds; 15 minutes means ingest is stuck.
    m.alarmOnQueueAge('IngestBacklog', this.pipeline.ingestQueue, Duration.minutes(15), 'The ingest queue');
    for (const fn of [
      this.pipeline.receive,
      this.pipeline.ingest,
      this.pipeline.rollup,
      this.schedules.patterns,
      this.api.handler,
    ]) {
      m.alarmOnErrors(`${fn.node.id}Errors`, fn);
    }
    m.alarmOnServerErrors('ApiServerErrors', this.api.httpApi);
    m.alarmOnServiceMetrics();
    if (this.notifications) {
      m.alarmOnErrors('NotificationsErrors', this.notifications.fn);
      m.alarmOnDeadLetters('NotificationRunFailures', this.notifications.failures, 'A notification run');
      m.alarmOnNotificationFailures();
    }

    new CfnOutput(this, 'WebUrl', {
      value: this.web.url,
      description: 'The web app (sign in with Cognito managed login)',
    });
    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of API v1' });
    new CfnOutput(this, 'UserPoolId', { value: this.auth.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: this.auth.client.userPoolClientId });
    new CfnOutput(this, 'ReturnsBucketName', { value: this.storage.returns.bucketName });
    new CfnOutput(this, 'TableName', { value: this.storage.table.tableName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
    new CfnOutput(this, 'IngestDeadLetterQueueUrl', { value: this.pipeline.ingestDeadLetters.queueUrl });
  }
}
