//! The page shell every page shares: the document head, a skip link, the site header with its
//! navigation (which depends on who is visiting), the flash message, the main landmark and the
//! footer. Pages render only their own content.

use marketplace_domain::pagination::Page;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use poem::Response;
use poem::http::{StatusCode, header};

use crate::assets;
use crate::visitor::{Flash, FlashKind, Visitor};

/// The site's name, as shown in titles and the header.
pub const SITE_NAME: &str = "Home Craft 3D";

/// A complete page for `visitor`: status 200, never stored by shared caches (it may show who is
/// signed in).
pub fn render(visitor: &Visitor, title: &str, content: Markup) -> Response {
    render_status(visitor, StatusCode::OK, title, content)
}

/// A complete page for `visitor` with another status (a form re-rendered with its errors is 422).
pub fn render_status(
    visitor: &Visitor,
    status: StatusCode,
    title: &str,
    content: Markup,
) -> Response {
    let markup = document(title, header_for(visitor), visitor.flash(), content);
    html_response(status, markup, "private, no-cache")
}

/// A page with the plain header, for answers that know nothing of the visitor (error pages).
pub fn bare_page(status: StatusCode, title: &str, content: Markup) -> Response {
    let markup = document(title, plain_header(), None, content);
    html_response(status, markup, "no-store")
}

/// `303 See Other` to `to`: how every form answers (post/redirect/get).
pub fn see_other(to: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, to)
        .header(header::CACHE_CONTROL, "no-store")
        .finish()
}

fn html_response(status: StatusCode, markup: Markup, cache_control: &'static str) -> Response {
    Response::builder()
        .status(status)
        .content_type("text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, cache_control)
        .header("x-content-type-options", "nosniff")
        .header("x-frame-options", "DENY")
        .header("referrer-policy", "same-origin")
        .header(
            "content-security-policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
             frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        )
        .body(markup.into_string())
}

fn document(title: &str, header: Markup, flash: Option<&Flash>, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (SITE_NAME) }
                meta name="description" content="Home Craft 3D: 3D-printed models and digital 3D files from independent makers.";
                link rel="icon" href="/favicon.svg" type="image/svg+xml";
                link rel="stylesheet" href=(assets::stylesheet_url());
            }
            body {
                a.skip href="#main" { "Skip to content" }
                (header)
                main #main tabindex="-1" {
                    @if let Some(flash) = flash {
                        @let class = match flash.kind { FlashKind::Notice => "flash notice", FlashKind::Problem => "flash problem" };
                        div class=(class) role="status" { (flash.message) }
                    }
                    (content)
                }
                footer.site-footer {
                    p {
                        (SITE_NAME) " — 3D-printed models and 3D files from independent makers. "
                        "Times are shown in UTC. "
                        a href="/api/docs" { "API" }
                    }
                }
            }
        }
    }
}

fn brand() -> Markup {
    html! {
        a.brand href="/" {
            (PreEscaped(assets::LOGO_SVG))
            span { (SITE_NAME) }
        }
    }
}

fn search_box() -> Markup {
    html! {
        form.search role="search" method="get" action="/products" {
            label.visually-hidden for="site-search" { "Search the shop" }
            input #site-search type="search" name="q" placeholder="Search models and files" maxlength="200";
            button type="submit" { "Search" }
        }
    }
}

fn plain_header() -> Markup {
    html! {
        header.site-header {
            div.bar {
                (brand())
                (search_box())
                nav aria-label="Main" {
                    ul {
                        li { a href="/products" { "Browse" } }
                        li { a href="/cart" { "Cart" } }
                    }
                }
            }
        }
    }
}

fn header_for(visitor: &Visitor) -> Markup {
    html! {
        header.site-header {
            div.bar {
                (brand())
                (search_box())
                nav aria-label="Main" {
                    ul {
                        li { a href="/products" { "Browse" } }
                        li { a href="/cart" { "Cart" } }
                        @if let Some(actor) = visitor.actor() {
                            li { a href="/orders" { "Orders" } }
                            @if actor.roles.is_seller() || actor.roles.is_owner() {
                                li { a href="/seller" { "Sell" } }
                            }
                            @if actor.roles.is_owner() || actor.roles.is_staff() {
                                li { a href="/admin" { "Admin" } }
                            }
                            li { a href="/account" { (actor.username) } }
                            li {
                                form.inline method="post" action="/logout" {
                                    (visitor.csrf_field())
                                    button.link type="submit" { "Sign out" }
                                }
                            }
                        } @else {
                            li { a href="/login" { "Sign in" } }
                            li { a href="/register" { "Register" } }
                        }
                    }
                }
            }
        }
    }
}

/// The pager under a list: previous and next, keeping the list's other parameters (`base`).
pub fn pager<T>(page: &Page<T>, base: &str) -> Markup {
    let current = page.request.page();
    let per_page = u64::from(page.request.per_page());
    let last = page.total.div_ceil(per_page.max(1)).max(1);
    let join = if base.contains('?') { '&' } else { '?' };
    html! {
        @if last > 1 {
            nav.pager aria-label="Pages" {
                @if current > 1 {
                    a rel="prev" href={(base) (join) "page=" (current - 1)} { "← Previous" }
                }
                span { "Page " (current) " of " (last) }
                @if u64::from(current) < last {
                    a rel="next" href={(base) (join) "page=" (current + 1)} { "Next →" }
                }
            }
        }
    }
}
