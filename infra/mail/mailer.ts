/**
 * E-mail through SMTP with nodemailer: one transport per process, built from SMTP_URL
 * (`smtp://user:pass@host:587`, or `smtps://` for implicit TLS; STARTTLS is used when offered).
 */
import nodemailer, { type Transporter } from 'nodemailer';

export interface MailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  /** Stable across retries, so that a receiving system can drop a duplicate. */
  readonly messageId?: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): void;
}

export function createMailer(options: { smtpUrl: string; from: string; timeoutMs: number }): Mailer {
  const transport: Transporter = nodemailer.createTransport({
    url: options.smtpUrl,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  } as Parameters<typeof nodemailer.createTransport>[0]);
  return {
    async send(message) {
      await transport.sendMail({ from: options.from, to: message.to, subject: message.subject, text: message.text, ...(message.messageId ? { messageId: message.messageId } : {}) });
    },
    close() {
      transport.close();
    },
  };
}
