// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {PullPayments} from "./PullPayments.sol";

/// @dev What the license registry reads of a dataset; SherdRegistry implements it.
interface IDatasetTerms {
    function datasetTerm(bytes32 id) external view returns (address owner, bool certified, uint256 endEpoch);
    function currentEpoch() external view returns (uint256);
}

/// @title Licenses to read encrypted Sherd datasets
/// @notice A dataset's owner (its registrant in SherdRegistry) publishes an offer: a price in
/// wei, a duration in the registry's epochs (0: perpetual) and the hash of its terms. Anyone
/// buys a license by paying exactly the price; the price is credited to the owner, who
/// withdraws it (pull payments). The owner can also grant licenses for free and withdraw the
/// offer (licenses already held stay valid until they expire). The dataset's nodes call
/// `hasLicense` before releasing their shares of its key (docs/licensing.md).
contract SherdLicenses is PullPayments {
    /// @notice Expiry of a license that never expires.
    uint64 public constant PERPETUAL = type(uint64).max;

    struct Offer {
        bool active;
        uint32 epochs;
        uint128 price;
        bytes32 termsHash;
    }

    IDatasetTerms public immutable registry;
    mapping(bytes32 datasetId => Offer) private offers;
    /// @dev The first epoch in which the license no longer holds; PERPETUAL if never; 0 if none.
    mapping(bytes32 datasetId => mapping(address licensee => uint64)) private expiries;
    // balanceOf (PullPayments): owners' proceeds.

    event OfferPublished(bytes32 indexed datasetId, address indexed owner, uint256 price, uint32 epochs, bytes32 termsHash);
    event OfferWithdrawn(bytes32 indexed datasetId);
    event LicenseGranted(bytes32 indexed datasetId, address indexed licensee, uint64 expiry, uint256 paid);

    error UnknownDataset(bytes32 datasetId);
    error NotOwner(bytes32 datasetId, address caller);
    error NoOffer(bytes32 datasetId);
    error WrongPrice(uint256 sent, uint256 price);
    error DatasetNotCertified(bytes32 datasetId);
    error DatasetExpired(bytes32 datasetId, uint256 endEpoch);
    error PriceTooHigh(uint256 price);
    error OfferChanged(uint32 epochs, bytes32 termsHash);
    error AlreadyPerpetual(bytes32 datasetId, address licensee);

    constructor(IDatasetTerms registry_) {
        registry = registry_;
    }

    /// @notice Publishes (or replaces) the offer for dataset `id`; only its owner may.
    function offer(bytes32 id, uint256 price, uint32 epochs, bytes32 termsHash) external {
        _onlyOwner(id);
        if (price > type(uint128).max) revert PriceTooHigh(price);
        offers[id] = Offer({active: true, epochs: epochs, price: uint128(price), termsHash: termsHash});
        emit OfferPublished(id, msg.sender, price, epochs, termsHash);
    }

    /// @notice Ends the offer: no new licenses are sold; those held stay valid until they expire.
    function withdrawOffer(bytes32 id) external {
        _onlyOwner(id);
        if (!offers[id].active) revert NoOffer(id);
        delete offers[id];
        emit OfferWithdrawn(id);
    }

    function getOffer(bytes32 id) external view returns (Offer memory) {
        return offers[id];
    }

    /// @notice Buys a license to dataset `id` at its offer's price, exactly; a license held
    /// already is extended from its current expiry. A perpetual one cannot be bought again.
    function buyLicense(bytes32 id) external payable returns (uint64 expiry) {
        return _buy(id, offers[id]);
    }

    /// @notice The same, only on the terms the buyer saw: if the owner replaced the offer in
    /// between (another duration or terms), the purchase reverts instead of paying for those.
    function buyLicenseOnTerms(bytes32 id, uint32 epochs, bytes32 termsHash) external payable returns (uint64 expiry) {
        Offer memory o = offers[id];
        if (o.active && (o.epochs != epochs || o.termsHash != termsHash)) revert OfferChanged(o.epochs, o.termsHash);
        return _buy(id, o);
    }

    /// @notice The owner gives `to` a license for `epochs` epochs (0: perpetual), free.
    function grant(bytes32 id, address to, uint32 epochs) external returns (uint64 expiry) {
        _onlyOwner(id);
        _live(id);
        expiry = _extend(id, to, epochs);
        emit LicenseGranted(id, to, expiry, 0);
    }

    /// @notice Whether `account` may read dataset `id` now: its owner always may.
    function hasLicense(bytes32 id, address account) external view returns (bool) {
        (address owner,,) = registry.datasetTerm(id);
        if (owner == address(0)) return false;
        return account == owner || expiries[id][account] > registry.currentEpoch();
    }

    /// @notice The first epoch in which `account`'s license to `id` no longer holds (PERPETUAL: never; 0: none).
    function licenseExpiry(bytes32 id, address account) external view returns (uint64) {
        return expiries[id][account];
    }

    function _buy(bytes32 id, Offer memory o) private returns (uint64 expiry) {
        if (!o.active) revert NoOffer(id);
        if (msg.value != o.price) revert WrongPrice(msg.value, o.price);
        if (expiries[id][msg.sender] == PERPETUAL) revert AlreadyPerpetual(id, msg.sender);
        (address owner,) = _live(id);
        balanceOf[owner] += msg.value;
        expiry = _extend(id, msg.sender, o.epochs);
        emit LicenseGranted(id, msg.sender, expiry, msg.value);
    }

    function _onlyOwner(bytes32 id) private view {
        (address owner,,) = registry.datasetTerm(id);
        if (owner == address(0)) revert UnknownDataset(id);
        if (owner != msg.sender) revert NotOwner(id, msg.sender);
    }

    /// @dev A dataset licenses can be had for: certified and within its storage term.
    function _live(bytes32 id) private view returns (address owner, uint256 endEpoch) {
        bool certified;
        (owner, certified, endEpoch) = registry.datasetTerm(id);
        if (owner == address(0)) revert UnknownDataset(id);
        if (!certified) revert DatasetNotCertified(id);
        if (registry.currentEpoch() >= endEpoch) revert DatasetExpired(id, endEpoch);
    }

    function _extend(bytes32 id, address licensee, uint32 epochs) private returns (uint64 expiry) {
        uint64 current = expiries[id][licensee];
        if (epochs == 0 || current == PERPETUAL) {
            expiry = PERPETUAL;
        } else {
            uint256 now_ = registry.currentEpoch();
            uint256 from = current > now_ ? current : now_;
            // Never wraps: past 2^64 − 2 epochs a license is as good as perpetual.
            uint256 end = from + epochs;
            expiry = end >= PERPETUAL ? PERPETUAL - 1 : uint64(end);
        }
        expiries[id][licensee] = expiry;
    }
}
