//! Invitation emails through SESv2: an HTML and a text part rendered from
//! shared/templates/mail/ (askama escapes every value of the HTML part). A failed send is
//! reported to the caller (which records it), never dropped.

use askama::Template;
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

/// One line for the subject and text part: no line breaks from user input.
fn one_line(raw: &str) -> String {
    raw.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[derive(Template)]
#[template(path = "mail/invitation.html")]
struct InvitationHtml<'a> {
    inviter: &'a str,
    org: &'a str,
    role: &'a str,
    expires: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/invitation.txt")]
struct InvitationText<'a> {
    inviter: &'a str,
    org: &'a str,
    role: &'a str,
    expires: &'a str,
    link: &'a str,
}

/// Subject, HTML part and text part of an invitation.
pub fn render(mail: &InvitationEmail<'_>) -> Result<(String, String, String), String> {
    let (inviter, org) = (one_line(mail.inviter), one_line(mail.org_name));
    let subject = format!("{inviter} invited you to join {org} on Roster");
    let html = InvitationHtml {
        inviter: mail.inviter,
        org: mail.org_name,
        role: mail.role,
        expires: mail.expires_at,
        link: mail.link,
    };
    let text = InvitationText {
        inviter: &inviter,
        org: &org,
        role: mail.role,
        expires: mail.expires_at,
        link: mail.link,
    };
    Ok((subject, rendered(&html)?, rendered(&text)?))
}

/// What the confirmation of a new email address says.
pub struct EmailChangeEmail<'a> {
    pub to: &'a str,
    pub name: &'a str,
    pub expires_at: &'a str,
    pub link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/email_change.html")]
struct EmailChangeHtml<'a> {
    name: &'a str,
    expires: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/email_change.txt")]
struct EmailChangeText<'a> {
    name: &'a str,
    expires: &'a str,
    link: &'a str,
}

/// Subject, HTML part and text part of an email-change confirmation.
pub fn render_email_change(
    mail: &EmailChangeEmail<'_>,
) -> Result<(String, String, String), String> {
    let subject = "Confirm your new email address on Roster".to_string();
    let name = one_line(mail.name);
    let html = EmailChangeHtml {
        name: mail.name,
        expires: mail.expires_at,
        link: mail.link,
    };
    let text = EmailChangeText {
        name: &name,
        expires: mail.expires_at,
        link: mail.link,
    };
    Ok((subject, rendered(&html)?, rendered(&text)?))
}

fn rendered(template: &impl Template) -> Result<String, String> {
    template.render().map_err(|e| e.to_string())
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
        let (subject, html, text) = render(mail)?;
        self.send(mail.to, subject, html, text).await
    }

    pub async fn send_email_change(&self, mail: &EmailChangeEmail<'_>) -> Result<(), String> {
        let (subject, html, text) = render_email_change(mail)?;
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

    const HOSTILE_ORG: &str = "<script>alert(1)</script> & Co";
    const HOSTILE_NAME: &str = "Eve \"the\" O'Neil <b>Admin</b>\r\nBcc: x@evil.test";

    fn invitation() -> InvitationEmail<'static> {
        InvitationEmail {
            to: "a@example.com",
            org_name: HOSTILE_ORG,
            inviter: HOSTILE_NAME,
            role: "admin",
            expires_at: "2026-12-01T00:00:00.000Z",
            link: "http://localhost:9000/invite?token=abc.def",
        }
    }

    #[test]
    fn user_strings_are_escaped_and_kept_on_one_line() {
        let (subject, html, text) = render(&invitation()).unwrap();
        assert!(
            !html.contains("<script>") && !html.contains("<b>"),
            "{html}"
        );
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"),
            "{html}"
        );
        assert!(
            html.contains("Eve &quot;the&quot; O&#39;Neil &lt;b&gt;Admin&lt;/b&gt;"),
            "{html}"
        );
        assert!(!subject.contains('\n') && !subject.contains('\r'));
        assert!(html.contains("href=\"http://localhost:9000/invite?token=abc.def\""));
        // The first link is the invitation (the browser test follows the first href).
        assert!(html.find("href=\"") == html.find("href=\"http://localhost:9000/invite"));
        assert!(html.contains("as <strong>admin</strong>") && html.contains("expires at"));
        assert_eq!(
            text,
            "Eve \"the\" O'Neil <b>Admin</b>  Bcc: x@evil.test invited you to join \
             <script>alert(1)</script> & Co as admin.\n\nAccept the invitation:\n\
             http://localhost:9000/invite?token=abc.def\n\nThe link expires at \
             2026-12-01T00:00:00.000Z (UTC). If you did not expect this, ignore this email.\n"
        );
    }

    #[test]
    fn the_invitation_html_is_the_whole_document() {
        let mut mail = invitation();
        mail.org_name = "Acme";
        mail.inviter = "Ada";
        let (subject, html, _) = render(&mail).unwrap();
        assert_eq!(subject, "Ada invited you to join Acme on Roster");
        assert!(html.starts_with("<!doctype html>") && html.trim_end().ends_with("</html>"));
        assert!(html.contains("<strong>Ada</strong> invited you to join <strong>Acme</strong>"));
    }

    #[test]
    fn the_email_change_mail_escapes_the_name() {
        let mail = EmailChangeEmail {
            to: "new@example.com",
            name: HOSTILE_NAME,
            expires_at: "2026-12-01T00:00:00.000Z",
            link: "http://localhost:9000/confirm-email?token=abc.def&x=<y>",
        };
        let (subject, html, text) = render_email_change(&mail).unwrap();
        assert_eq!(subject, "Confirm your new email address on Roster");
        assert!(!html.contains("<b>"), "{html}");
        assert!(html.contains("Hello Eve &quot;the&quot; O&#39;Neil &lt;b&gt;Admin&lt;/b&gt;"));
        assert!(html.contains(
            "href=\"http://localhost:9000/confirm-email?token=abc.def&amp;x=&lt;y&gt;\""
        ));
        assert_eq!(
            text,
            "Hello Eve \"the\" O'Neil <b>Admin</b>  Bcc: x@evil.test,\n\n\
             Confirm that this is your new email address for Roster:\n\
             http://localhost:9000/confirm-email?token=abc.def&x=<y>\n\n\
             The link expires at 2026-12-01T00:00:00.000Z (UTC). Until you confirm, your old \
             address stays in use. If you did not ask for this, ignore this email.\n"
        );
    }
}
