//! The view: small function components over one reducer ([`eda_core::state`]), reached through
//! [`crate::hooks::use_playground`].

mod app;
mod broker_bar;
mod copy_link;
mod download;
mod draft_field;
mod event_log;
mod flow_diagram;
mod flow_pulses;
mod notifications;
mod order_form;
mod orders_panel;
pub mod outside_text;
mod packet_detail;
mod packet_inspector;
mod packet_row;
mod panel_choice;
mod playback_bar;
mod protocol_select;
mod qos_settings;
mod recording_bar;
mod saga_settings;
mod sequence_diagram;
mod setting_select;
mod status_strip;
mod stock_panel;

pub use app::App;
pub use broker_bar::BrokerBar;
pub use copy_link::CopyLink;
pub use draft_field::DraftField;
pub use event_log::EventLog;
pub use flow_diagram::FlowDiagram;
pub use notifications::Notifications;
pub use order_form::OrderForm;
pub use orders_panel::OrdersPanel;
pub use packet_inspector::PacketInspector;
pub use panel_choice::PanelChoice;
pub use playback_bar::PlaybackBar;
pub use protocol_select::ProtocolSelect;
pub use qos_settings::QosSettings;
pub use recording_bar::RecordingBar;
pub use saga_settings::SagaSettings;
pub use sequence_diagram::SequenceDiagram;
pub use setting_select::SettingSelect;
pub use status_strip::StatusStrip;
pub use stock_panel::StockPanel;
