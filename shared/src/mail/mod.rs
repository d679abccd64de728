//! Invitation emails through SESv2: an HTML and a text part, every user-supplied string
//! escaped. A failed send is reported to the caller (which records it), never dropped.

use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

#[derive(Clone)]
pub struct Mailer {
    client: Client,
    from: String,
}

/// What an invitation email says.
pub struct InvitationEmail<'a> {
    pub to: &'a str,
    pub org_name: &'a str,
    pub inviter: &'a str,
    pub role: &'a str,
    pub expires_at: &'a str,
    pub link: &'a str,
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One line for the subject and text part: no line breaks from user input.
fn one_line(raw: &str) -> String {
    raw.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

pub fn render(mail: &InvitationEmail<'_>) -> (String, String, String) {
    let subject = format!(
        "{} invited you to join {} on Roster",
        one_line(mail.inviter),
        one_line(mail.org_name)
    );
    let text = format!(
        "{inviter} invited you to join {org} as {role}.\n\nAccept the invitation:\n{link}\n\nThe link expires at {expires} (UTC). If you did not expect this, ignore this email.\n",
        inviter = one_line(mail.inviter),
        org = one_line(mail.org_name),
        role = mail.role,
        link = mail.link,
        expires = mail.expires_at,
    );
    let html = format!(
        "<!doctype html><html lang=\"en\"><body style=\"font-family:sans-serif\">\
         <p><strong>{inviter}</strong> invited you to join <strong>{org}</strong> as <strong>{role}</strong>.</p>\
         <p><a href=\"{link}\">Accept the invitation</a></p>\
         <p>The link expires at {expires} (UTC). If you did not expect this, ignore this email.</p>\
         </body></html>",
        inviter = escape_html(mail.inviter),
        org = escape_html(mail.org_name),
        role = escape_html(mail.role),
        link = escape_html(mail.link),
        expires = escape_html(mail.expires_at),
    );
    (subject, html, text)
}

/// What the confirmation of a new email address says.
pub struct EmailChangeEmail<'a> {
    pub to: &'a str,
    pub name: &'a str,
    pub expires_at: &'a str,
    pub link: &'a str,
}

pub fn render_email_change(mail: &EmailChangeEmail<'_>) -> (String, String, String) {
    let subject = "Confirm your new email address on Roster".to_string();
    let text = format!(
        "Hello {name},\n\nConfirm that this is your new email address for Roster:\n{link}\n\nThe link expires at {expires} (UTC). Until you confirm, your old address stays in use. If you did not ask for this, ignore this email.\n",
        name = one_line(mail.name),
        link = mail.link,
        expires = mail.expires_at,
    );
    let html = format!(
        "<!doctype html><html lang=\"en\"><body style=\"font-family:sans-serif\">\
         <p>Hello {name},</p><p>Confirm that this is your new email address for Roster.</p>\
         <p><a href=\"{link}\">Confirm my new email address</a></p>\
         <p>The link expires at {expires} (UTC). Until you confirm, your old address stays in use. If you did not ask for this, ignore this email.</p>\
         </body></html>",
        name = escape_html(mail.name),
        link = escape_html(mail.link),
        expires = escape_html(mail.expires_at),
    );
    (subject, html, text)
}

impl Mailer {
    pub fn new(client: Client, from: impl Into<String>) -> Self {
        Mailer {
            client,
            from: from.into(),
        }
    }

    /// Registers the sender with SES. For the local emulator, which (like SES) refuses mail
    /// from an unverified sender; in AWS the identity comes from template.yaml.
    pub async fn create_sender_identity(&self) -> Result<(), String> {
        match self
            .client
            .create_email_identity()
            .email_identity(&self.from)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_already_exists_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(aws_sdk_sesv2::error::DisplayErrorContext(&e).to_string()),
        }
    }

    pub async fn send_invitation(&self, mail: &InvitationEmail<'_>) -> Result<(), String> {
        let (subject, html, text) = render(mail);
        self.send(mail.to, subject, html, text).await
    }

    pub async fn send_email_change(&self, mail: &EmailChangeEmail<'_>) -> Result<(), String> {
        let (subject, html, text) = render_email_change(mail);
        self.send(mail.to, subject, html, text).await
    }

    async fn send(
        &self,
        to: &str,
        subject: String,
        html: String,
        text: String,
    ) -> Result<(), String> {
        let content = |data: String| {
            Content::builder()
                .data(data)
                .charset("UTF-8")
                .build()
                .map_err(|e| e.to_string())
        };
        let message = Message::builder()
            .subject(content(subject)?)
            .body(
                Body::builder()
                    .html(content(html)?)
                    .text(content(text)?)
                    .build(),
            )
            .build();
        self.client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_sdk_sesv2::error::DisplayErrorContext(&e).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_strings_are_escaped_and_kept_on_one_line() {
        let mail = InvitationEmail {
            to: "a@example.com",
            org_name: "<script>alert(1)</script> & Co",
            inviter: "Eve \"the\" <b>Admin</b>\r\nBcc: x@evil.test",
            role: "admin",
            expires_at: "2026-12-01T00:00:00.000Z",
            link: "http://localhost:9000/invite?token=abc.def",
        };
        let (subject, html, text) = render(&mail);
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"));
        assert!(html.contains("&lt;b&gt;Admin&lt;/b&gt;"));
        assert!(!subject.contains('\n') && !subject.contains('\r'));
        assert!(text.contains("http://localhost:9000/invite?token=abc.def"));
        assert!(html.contains("href=\"http://localhost:9000/invite?token=abc.def\""));
        assert!(text.contains("as admin"));
    }
}
