import { ConfigError, loadConfig } from './config';

describe('configuration', () => {
  it('given nothing, then every variable has its default', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(3000);
    expect(config.DATABASE_SCHEMA).toBe('scriptorium');
    expect(config.NATS_URL).toBeUndefined();
    expect(config.EVENTSTORE_CONNECTION_STRING).toBeUndefined();
  });

  it('given bad values, then one error names every offending variable', () => {
    try {
      loadConfig({ PORT: 'eighty', DATABASE_SCHEMA: 'Robert); DROP', LOG_LEVEL: 'loud' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as ConfigError).message;
      expect(message).toContain('PORT');
      expect(message).toContain('DATABASE_SCHEMA');
      expect(message).toContain('LOG_LEVEL');
    }
  });

  it('given an empty optional variable, then it counts as unset', () => {
    expect(loadConfig({ NATS_URL: '  ' }).NATS_URL).toBeUndefined();
  });
});
