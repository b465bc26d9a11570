//! The console's URLs (History API, under `/app`). The server answers every
//! `/app/*` path with the console's page, so any of these can be reloaded
//! or bookmarked.

/// One screen of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Login,
    /// The lists, with a conversation open or not.
    Conversations(Option<i64>),
    SettingsInboxes,
    SettingsInbox(i64),
    SettingsAgents,
    /// Connections to other systems (webhooks, the Agendor CRM).
    SettingsIntegrations,
    /// The account's webhooks and their deliveries.
    SettingsWebhooks,
    Profile,
}

impl Route {
    /// The route of a path; anything unknown is the conversation lists.
    pub fn parse(path: &str) -> Route {
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let id = |s: &str| s.parse::<i64>().ok().filter(|id| *id > 0);
        match parts.as_slice() {
            ["app", "login"] => Route::Login,
            ["app", "conversations", raw] => Route::Conversations(id(raw)),
            ["app", "settings"] | ["app", "settings", "inboxes"] => Route::SettingsInboxes,
            ["app", "settings", "inboxes", raw] => match id(raw) {
                Some(id) => Route::SettingsInbox(id),
                None => Route::SettingsInboxes,
            },
            ["app", "settings", "agents"] => Route::SettingsAgents,
            ["app", "settings", "integrations"] => Route::SettingsIntegrations,
            ["app", "settings", "integrations", "webhooks"] => Route::SettingsWebhooks,
            ["app", "profile"] => Route::Profile,
            _ => Route::Conversations(None),
        }
    }

    pub fn path(self) -> String {
        match self {
            Route::Login => "/app/login".into(),
            Route::Conversations(None) => "/app/conversations".into(),
            Route::Conversations(Some(id)) => format!("/app/conversations/{id}"),
            Route::SettingsInboxes => "/app/settings/inboxes".into(),
            Route::SettingsInbox(id) => format!("/app/settings/inboxes/{id}"),
            Route::SettingsAgents => "/app/settings/agents".into(),
            Route::SettingsIntegrations => "/app/settings/integrations".into(),
            Route::SettingsWebhooks => "/app/settings/integrations/webhooks".into(),
            Route::Profile => "/app/profile".into(),
        }
    }

    /// Settings screens are for administrators only.
    pub fn is_settings(self) -> bool {
        self.area() == Area::Settings
    }

    /// Which top-level area the route belongs to (the screen kept when
    /// moving inside it, e.g. from one conversation to another).
    pub fn area(self) -> Area {
        match self {
            Route::Login => Area::Login,
            Route::Conversations(_) => Area::Conversations,
            Route::SettingsInboxes
            | Route::SettingsInbox(_)
            | Route::SettingsAgents
            | Route::SettingsIntegrations
            | Route::SettingsWebhooks => Area::Settings,
            Route::Profile => Area::Profile,
        }
    }
}

/// Top-level screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Login,
    Conversations,
    Settings,
    Profile,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_route_and_back() {
        for route in [
            Route::Login,
            Route::Conversations(None),
            Route::Conversations(Some(42)),
            Route::SettingsInboxes,
            Route::SettingsInbox(3),
            Route::SettingsAgents,
            Route::SettingsIntegrations,
            Route::SettingsWebhooks,
            Route::Profile,
        ] {
            assert_eq!(Route::parse(&route.path()), route);
        }
    }

    #[test]
    fn unknown_paths_go_to_the_lists() {
        assert_eq!(Route::parse("/app"), Route::Conversations(None));
        assert_eq!(Route::parse("/app/"), Route::Conversations(None));
        assert_eq!(Route::parse("/app/nowhere"), Route::Conversations(None));
        assert_eq!(
            Route::parse("/app/conversations/abc"),
            Route::Conversations(None)
        );
        assert_eq!(
            Route::parse("/app/conversations/7?x=1"),
            Route::Conversations(Some(7))
        );
        assert_eq!(Route::parse("/app/settings"), Route::SettingsInboxes);
    }

    #[test]
    fn integrations_are_a_settings_screen() {
        let r = Route::parse("/app/settings/integrations?x=1");
        assert_eq!(r, Route::SettingsIntegrations);
        assert_eq!(r.path(), "/app/settings/integrations");
        assert!(r.is_settings());
        assert_eq!(r.area(), Area::Settings);
        assert!(!Route::Profile.is_settings());
        let w = Route::parse("/app/settings/integrations/webhooks");
        assert_eq!(w, Route::SettingsWebhooks);
        assert!(w.is_settings());
        assert!(!Route::Conversations(None).is_settings());
    }
}
