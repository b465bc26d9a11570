//! A part of a page redrawn only when what it shows changed: the caller
//! describes the data as a signature string, and the drawing runs again
//! only when the signature differs. Cheap, and it keeps live updates (a
//! presence change, say) from rebuilding what did not change.

use web_sys::Element;

pub(super) struct Section {
    pub el: Element,
    sig: Option<String>,
}

impl Section {
    pub(super) fn new(el: Element) -> Section {
        Section { el, sig: None }
    }

    /// Empties the section and runs `draw` when `sig` changed; says
    /// whether it did.
    pub(super) fn refresh(&mut self, sig: String, draw: impl FnOnce(&Element)) -> bool {
        if self.sig.as_deref() == Some(sig.as_str()) {
            return false;
        }
        self.el.set_text_content(None);
        draw(&self.el);
        self.sig = Some(sig);
        true
    }
}
