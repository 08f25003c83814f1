//! The world the stream describes: per tenant the orgs, users, projects,
//! grants, targets, policies, sessions, milestones, quotas and limits that
//! exist and which of them were removed, so that every event is about
//! something that exists. The policies, sessions, limits and IdPs have
//! their state types in their modules.
//!
//! Things are never deleted from the lists, only marked removed, so an index
//! stays valid for the whole stream. Whether something is still alive also
//! depends on its parents: the users, projects and grants of a removed org
//! get no further events, as in real data.

use crate::{idps, limits, policies, sessions};

/// Where a tenant is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Life {
    /// Not set up yet.
    Pending,
    /// Set up and not removed.
    Live,
    /// `instance.removed` was written.
    Removed,
}

/// One tenant (Zitadel instance).
#[derive(Debug, Clone)]
pub(crate) struct Tenant {
    /// Instance id.
    pub(crate) id: String,
    /// Where it is in its life.
    pub(crate) life: Life,
    /// How busy it is relative to the others.
    pub(crate) weight: usize,
    /// Set up once the stream holds this many events.
    pub(crate) start_at: usize,
    /// Removed once the stream holds this many events (never when `None`).
    pub(crate) remove_at: Option<usize>,
    /// Instance domains.
    pub(crate) domains: Vec<InstanceDomain>,
    /// Trusted domains (present ones only).
    pub(crate) trusted: Vec<String>,
    /// Instance members.
    pub(crate) members: Vec<Member>,
    /// Whether the default domain policy exists.
    pub(crate) policy: bool,
    /// The default org (never removed).
    pub(crate) default_org: usize,
    /// The first admin, the creator of most events (a user index).
    pub(crate) admin: Option<usize>,
    /// Orgs.
    pub(crate) orgs: Vec<Org>,
    /// Users.
    pub(crate) users: Vec<User>,
    /// Projects.
    pub(crate) projects: Vec<Project>,
    /// User grants.
    pub(crate) grants: Vec<UserGrant>,
    /// Action targets.
    pub(crate) targets: Vec<Target>,
    /// The instance's default policies (the domain policy is [`Tenant::policy`]).
    pub(crate) policies: policies::Owner,
    /// Sessions.
    pub(crate) sessions: Vec<sessions::Session>,
    /// Auth requests.
    pub(crate) auth_requests: Vec<sessions::AuthRequest>,
    /// Milestones, quotas and limits.
    pub(crate) limits: limits::Limits,
    /// IdPs with their login policy and user links.
    pub(crate) idps: idps::Idps,
    /// How many domains were named so far (for unique names).
    pub(crate) domain_counter: usize,
}

/// An instance domain.
#[derive(Debug, Clone)]
pub(crate) struct InstanceDomain {
    /// Name.
    pub(crate) name: String,
    /// Generated at setup.
    pub(crate) generated: bool,
    /// Primary.
    pub(crate) primary: bool,
}

/// A member of an instance or org.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    /// User index.
    pub(crate) user: usize,
    /// Roles.
    pub(crate) roles: Vec<String>,
}

/// An organisation.
#[derive(Debug, Clone)]
pub(crate) struct Org {
    /// Org id.
    pub(crate) id: String,
    /// Removed.
    pub(crate) removed: bool,
    /// Active (not deactivated).
    pub(crate) active: bool,
    /// Domains (present ones only).
    pub(crate) domains: Vec<OrgDomain>,
    /// Members.
    pub(crate) members: Vec<Member>,
    /// Metadata keys.
    pub(crate) metadata: Vec<String>,
    /// Whether an org domain policy exists.
    pub(crate) policy: bool,
    /// The org's own other policies.
    pub(crate) policies: policies::Owner,
}

/// An org domain.
#[derive(Debug, Clone)]
pub(crate) struct OrgDomain {
    /// Name.
    pub(crate) name: String,
    /// A verification was started.
    pub(crate) validation: bool,
    /// Verified.
    pub(crate) verified: bool,
    /// Primary.
    pub(crate) primary: bool,
}

/// A user's state, as far as events may follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UserState {
    /// Waiting for the initialisation code.
    Initial,
    /// Active.
    Active,
    /// Locked.
    Locked,
    /// Deactivated.
    Inactive,
}

/// How a user was created, which decides the event names that follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A human created with the current event names.
    Human,
    /// A human created with the legacy v1 event names (`user.added`,
    /// `user.selfregistered`); look-ups by creation event do not find it.
    LegacyHuman,
    /// A machine user.
    Machine,
}

/// A second factor or passwordless key of a human.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    /// Token id.
    pub(crate) id: String,
    /// Passwordless (else U2F).
    pub(crate) passwordless: bool,
    /// Verified.
    pub(crate) verified: bool,
}

/// A user.
#[derive(Debug, Clone)]
pub(crate) struct User {
    /// User id.
    pub(crate) id: String,
    /// Org index.
    pub(crate) org: usize,
    /// How it was created.
    pub(crate) kind: Kind,
    /// User name.
    pub(crate) username: String,
    /// Removed.
    pub(crate) removed: bool,
    /// State.
    pub(crate) state: UserState,
    /// Phone number, when set.
    pub(crate) phone: Option<String>,
    /// Phone verified.
    pub(crate) phone_verified: bool,
    /// Email verified.
    pub(crate) email_verified: bool,
    /// Avatar set.
    pub(crate) avatar: bool,
    /// TOTP: `None`, added (`Some(false)`) or verified (`Some(true)`).
    pub(crate) otp: Option<bool>,
    /// OTP via SMS set up.
    pub(crate) otp_sms: bool,
    /// OTP via email set up.
    pub(crate) otp_email: bool,
    /// Recovery codes set up.
    pub(crate) recovery: bool,
    /// WebAuthn tokens (present ones only).
    pub(crate) tokens: Vec<Token>,
    /// Metadata keys.
    pub(crate) metadata: Vec<String>,
    /// Personal access tokens (present ones only).
    pub(crate) pats: Vec<String>,
    /// Machine keys (present ones only).
    pub(crate) keys: Vec<String>,
    /// Machine secret set.
    pub(crate) secret: bool,
}

impl User {
    /// A new active user of `org` without any set-up.
    pub(crate) fn new(id: String, org: usize, kind: Kind, username: String) -> User {
        User {
            id,
            org,
            kind,
            username,
            removed: false,
            state: UserState::Active,
            phone: None,
            phone_verified: false,
            email_verified: false,
            avatar: false,
            otp: None,
            otp_sms: false,
            otp_email: false,
            recovery: false,
            tokens: Vec::new(),
            metadata: Vec::new(),
            pats: Vec::new(),
            keys: Vec::new(),
            secret: false,
        }
    }

    /// A human (current or legacy names).
    pub(crate) fn human(&self) -> bool {
        self.kind != Kind::Machine
    }

    /// Created with the legacy event names.
    pub(crate) fn legacy(&self) -> bool {
        self.kind == Kind::LegacyHuman
    }
}

/// A project.
#[derive(Debug, Clone)]
pub(crate) struct Project {
    /// Project id.
    pub(crate) id: String,
    /// Owning org index.
    pub(crate) org: usize,
    /// Removed.
    pub(crate) removed: bool,
    /// Active (not deactivated).
    pub(crate) active: bool,
    /// Role keys (present ones only).
    pub(crate) roles: Vec<String>,
    /// Grants of the project to other orgs.
    pub(crate) grants: Vec<ProjectGrant>,
    /// Applications.
    pub(crate) apps: Vec<App>,
    /// Members (present ones only; the user may be gone when the removal
    /// of the user did not cascade to the membership).
    pub(crate) members: Vec<Member>,
    /// How many roles were named so far (for unique keys).
    pub(crate) role_counter: usize,
    /// A grant was added with the granted org as resource owner and no
    /// `project.owner.corrected` followed yet.
    pub(crate) misowned: bool,
}

impl Project {
    /// A new active project of `org` without roles, grants, apps or members.
    pub(crate) fn new(id: String, org: usize) -> Project {
        Project {
            id,
            org,
            removed: false,
            active: true,
            roles: Vec::new(),
            grants: Vec::new(),
            apps: Vec::new(),
            members: Vec::new(),
            role_counter: 0,
            misowned: false,
        }
    }
}

/// A grant of a project to another org.
#[derive(Debug, Clone)]
pub(crate) struct ProjectGrant {
    /// Grant id.
    pub(crate) id: String,
    /// Granted org index.
    pub(crate) org: usize,
    /// Granted role keys.
    pub(crate) roles: Vec<String>,
    /// Removed.
    pub(crate) removed: bool,
    /// Active (not deactivated).
    pub(crate) active: bool,
    /// Members (present ones only, as for project members).
    pub(crate) members: Vec<Member>,
}

/// The kind of an application, which decides its configuration events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AppKind {
    /// An OIDC client.
    Oidc,
    /// An API (resource server).
    Api,
    /// A SAML service provider.
    Saml,
}

/// An application of a project.
#[derive(Debug, Clone)]
pub(crate) struct App {
    /// App id.
    pub(crate) id: String,
    /// Client id (empty for SAML apps).
    pub(crate) client_id: String,
    /// Kind.
    pub(crate) kind: AppKind,
    /// Removed.
    pub(crate) removed: bool,
    /// Active (not deactivated).
    pub(crate) active: bool,
    /// Auth method: OIDC 0 basic, 1 post, 2 none, 3 private key JWT; API 0
    /// basic, 1 private key JWT.
    pub(crate) auth_method: usize,
    /// A client secret is set.
    pub(crate) secret: bool,
    /// The SAML entity id (empty for other kinds).
    pub(crate) entity_id: String,
    /// Key ids (present ones only).
    pub(crate) keys: Vec<String>,
}

impl App {
    /// Whether the auth method uses a client secret.
    pub(crate) fn uses_secret(&self) -> bool {
        match self.kind {
            AppKind::Oidc => self.auth_method <= 1,
            AppKind::Api => self.auth_method == 0,
            AppKind::Saml => false,
        }
    }
}

/// A grant of project roles to a user.
#[derive(Debug, Clone)]
pub(crate) struct UserGrant {
    /// Grant id (the `usergrant` aggregate id).
    pub(crate) id: String,
    /// User index.
    pub(crate) user: usize,
    /// Project index.
    pub(crate) project: usize,
    /// Project grant index, for a grant through a project grant.
    pub(crate) project_grant: Option<usize>,
    /// Resource owner (org index).
    pub(crate) owner: usize,
    /// Role keys.
    pub(crate) roles: Vec<String>,
    /// Active (not deactivated).
    pub(crate) active: bool,
    /// Removed.
    pub(crate) removed: bool,
}

/// An action target.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// Target id.
    pub(crate) id: String,
    /// Removed.
    pub(crate) removed: bool,
    /// Keys (present ones only): id and whether it is the active one.
    pub(crate) keys: Vec<(String, bool)>,
}

impl Tenant {
    /// A tenant that is not set up yet.
    pub(crate) fn new(id: String, weight: usize, start_at: usize) -> Tenant {
        Tenant {
            id,
            life: Life::Pending,
            weight,
            start_at,
            remove_at: None,
            domains: Vec::new(),
            trusted: Vec::new(),
            members: Vec::new(),
            policy: false,
            default_org: 0,
            admin: None,
            orgs: Vec::new(),
            users: Vec::new(),
            projects: Vec::new(),
            grants: Vec::new(),
            targets: Vec::new(),
            policies: policies::Owner::default(),
            sessions: Vec::new(),
            auth_requests: Vec::new(),
            limits: limits::Limits::default(),
            idps: idps::Idps::default(),
            domain_counter: 0,
        }
    }

    /// The org exists.
    pub(crate) fn org_live(&self, org: usize) -> bool {
        self.orgs.get(org).is_some_and(|o| !o.removed)
    }

    /// The user exists and so does its org.
    pub(crate) fn user_live(&self, user: usize) -> bool {
        self.users
            .get(user)
            .is_some_and(|u| !u.removed && self.org_live(u.org))
    }

    /// The user exists and look-ups find its creation event (members and
    /// user grants need that).
    pub(crate) fn user_found(&self, user: usize) -> bool {
        self.user_live(user) && self.users.get(user).is_some_and(|u| !u.legacy())
    }

    /// The project exists and so does its org.
    pub(crate) fn project_live(&self, project: usize) -> bool {
        self.projects
            .get(project)
            .is_some_and(|p| !p.removed && self.org_live(p.org))
    }

    /// The project grant exists, and so do its project and granted org.
    pub(crate) fn project_grant_live(&self, project: usize, grant: usize) -> bool {
        self.project_live(project)
            && self.projects[project]
                .grants
                .get(grant)
                .is_some_and(|g| !g.removed && self.org_live(g.org))
    }

    /// The user grant exists and so does everything it depends on.
    pub(crate) fn user_grant_live(&self, grant: usize) -> bool {
        let Some(g) = self.grants.get(grant) else {
            return false;
        };
        !g.removed
            && self.user_live(g.user)
            && self.project_live(g.project)
            && self.org_live(g.owner)
            && g.project_grant
                .is_none_or(|pg| self.project_grant_live(g.project, pg))
    }

    /// The creator of an ordinary change: the first admin while it exists.
    pub(crate) fn creator(&self) -> String {
        match self.admin {
            Some(admin) if self.user_live(admin) => self.users[admin].id.clone(),
            _ => "SYSTEM".to_owned(),
        }
    }

    /// The primary instance domain (the base of generated org domains).
    pub(crate) fn primary_domain(&self) -> String {
        self.domains
            .iter()
            .find(|d| d.primary)
            .map_or_else(|| format!("{}.localhost", self.id), |d| d.name.clone())
    }

    /// The indexes of the live users that pass `keep`.
    pub(crate) fn live_users(&self, keep: impl Fn(&User) -> bool) -> Vec<usize> {
        (0..self.users.len())
            .filter(|u| self.user_live(*u) && keep(&self.users[*u]))
            .collect()
    }

    /// The indexes of the live orgs that pass `keep`.
    pub(crate) fn live_orgs(&self, keep: impl Fn(usize, &Org) -> bool) -> Vec<usize> {
        (0..self.orgs.len())
            .filter(|o| self.org_live(*o) && keep(*o, &self.orgs[*o]))
            .collect()
    }

    /// The indexes of the live projects.
    pub(crate) fn live_projects(&self) -> Vec<usize> {
        (0..self.projects.len())
            .filter(|p| self.project_live(*p))
            .collect()
    }

    /// The live project grants that pass `keep`, as (project, grant)
    /// indexes.
    pub(crate) fn live_project_grants(
        &self,
        keep: impl Fn(&ProjectGrant) -> bool,
    ) -> Vec<(usize, usize)> {
        self.live_projects()
            .into_iter()
            .flat_map(|p| {
                (0..self.projects[p].grants.len())
                    .filter(move |pg| self.project_grant_live(p, *pg))
                    .map(move |pg| (p, pg))
            })
            .filter(|(p, pg)| keep(&self.projects[*p].grants[*pg]))
            .collect()
    }

    /// The live apps of live projects that pass `keep`, as (project, app)
    /// indexes.
    pub(crate) fn live_apps(&self, keep: impl Fn(&App) -> bool) -> Vec<(usize, usize)> {
        self.live_projects()
            .into_iter()
            .flat_map(|p| {
                let apps = &self.projects[p].apps;
                (0..apps.len())
                    .filter(|a| !apps[*a].removed && keep(&apps[*a]))
                    .map(move |a| (p, a))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// The indexes of the live user grants that pass `keep`.
    pub(crate) fn live_grants(&self, keep: impl Fn(&UserGrant) -> bool) -> Vec<usize> {
        (0..self.grants.len())
            .filter(|g| self.user_grant_live(*g) && keep(&self.grants[*g]))
            .collect()
    }

    /// A new domain label, unique within the tenant.
    pub(crate) fn domain_label(&mut self, prefix: &str) -> String {
        self.domain_counter += 1;
        format!("{prefix}{}", self.domain_counter)
    }
}
